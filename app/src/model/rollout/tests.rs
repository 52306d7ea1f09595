use super::*;

fn step(percent: f64, hold: Option<u32>) -> Step {
    Step {
        percent,
        hold_minutes: hold,
    }
}

fn policy() -> NewRollout {
    NewRollout {
        steps: vec![
            step(1.0, Some(60)),
            step(10.0, Some(240)),
            step(100.0, None),
        ],
        health: Health {
            min_reports: 20,
            max_failure_ratio: 0.05,
        },
        ..NewRollout::publish("recalbox", "stable", "master-2017-08-26-891011")
    }
}

fn counts(succeeded: u64, failed: u64, timed_out: u64) -> Counts {
    Counts {
        succeeded,
        failed,
        timed_out,
        ..Counts::default()
    }
}

#[test]
fn buckets_match_the_published_vectors() {
    // The same vectors are in docs/ROLLOUTS.md, computed there with Python's hashlib.
    assert_eq!(bucket("rollout-1", "012456789"), 9575);
    assert_eq!(bucket("rollout-1", "device-0001"), 588);
    assert_eq!(bucket("stable", "012456789"), 8812);
    assert_eq!(bucket("42", "b8:27:eb:00:00:01"), 6409);
    assert_eq!(bucket("", "x"), 9184);
}

#[test]
fn the_cohort_is_the_buckets_below_percent_times_100() {
    assert!(in_cohort(588, 5.89));
    assert!(!in_cohort(588, 5.88));
    assert!(!in_cohort(0, 0.0));
    assert!(in_cohort(9999, 100.0));
    assert!(in_cohort(99, 1.0) && !in_cohort(100, 1.0));
}

#[test]
fn raising_the_percent_never_removes_a_device() {
    let uuids: Vec<String> = (0..2000).map(|i| format!("device-{i:04}")).collect();
    let mut previous: Vec<&String> = Vec::new();
    for percent in [1.0, 5.0, 10.0, 25.0, 50.0, 100.0] {
        let cohort: Vec<&String> = uuids
            .iter()
            .filter(|u| in_cohort(bucket("7", u), percent))
            .collect();
        assert!(previous.iter().all(|u| cohort.contains(u)), "{percent}%");
        previous = cohort;
    }
    assert_eq!(previous.len(), 2000);
}

#[test]
fn cohorts_are_about_the_size_asked() {
    let inside = (0..10_000)
        .filter(|i| in_cohort(bucket("salt", &format!("u{i}")), 10.0))
        .count();
    assert!((850..1150).contains(&inside), "{inside} of 10000 at 10%");
}

#[test]
fn a_good_policy_passes_and_bad_ones_name_their_field() {
    assert_eq!(policy().check(), Ok(()));
    let mut p = policy();
    p.steps = vec![];
    assert_eq!(p.check().unwrap_err().0, "steps");
    let mut p = policy();
    p.steps = vec![step(10.0, None), step(5.0, None), step(100.0, None)];
    assert!(p.check().unwrap_err().1.contains("never go down"));
    let mut p = policy();
    p.steps = vec![step(10.0, None)];
    assert!(p.check().unwrap_err().1.contains("last step"));
    let mut p = policy();
    p.steps = vec![step(0.0, None), step(100.0, None)];
    assert_eq!(p.check().unwrap_err().0, "steps");
    let mut p = policy();
    p.health.max_failure_ratio = 1.5;
    assert_eq!(p.check().unwrap_err().0, "health.max_failure_ratio");
    let mut p = policy();
    p.max_in_flight = Some(0);
    assert_eq!(p.check().unwrap_err().0, "max_in_flight");
    let mut p = policy();
    p.canary_uuids = vec!["a".into()];
    p.deny_uuids = vec!["a".into()];
    assert_eq!(p.check().unwrap_err().0, "deny_uuids");
}

#[test]
fn only_a_plain_publish_completes_at_once() {
    assert!(NewRollout::publish("d", "stable", "v").completes_at_once());
    assert!(!policy().completes_at_once());
    let mut capped = NewRollout::publish("d", "stable", "v");
    capped.max_grants_per_hour = Some(10);
    assert!(!capped.completes_at_once());
}

#[test]
fn the_state_machine_allows_only_sensible_commands() {
    use RolloutState::*;
    assert_eq!(Command::Pause.apply(Running), Ok(Paused));
    assert_eq!(Command::Resume.apply(Paused), Ok(Running));
    assert_eq!(Command::Resume.apply(Halted), Ok(Running));
    assert_eq!(Command::Halt.apply(Paused), Ok(Halted));
    assert_eq!(Command::Rollback.apply(Completed), Ok(RolledBack));
    assert!(Command::Pause.apply(Halted).is_err());
    assert!(Command::Advance.apply(Halted).is_err());
    assert!(Command::Resume.apply(Running).is_err());
    assert_eq!(
        Command::Rollback.apply(RolledBack).unwrap_err(),
        "cannot rollback a rollout that is rolled back"
    );
    assert!(Command::Halt.apply(Superseded).is_err());
}

#[test]
fn success_counts_only_after_the_reboot_on_the_new_version() {
    let v = "master-2017-08-26-891011";
    let s = GrantStatus::Offered.after_report(ReportStatus::Started, "old", v);
    assert_eq!(s, GrantStatus::Downloading);
    let s = s.after_report(ReportStatus::Rebooting, "old", v);
    assert_eq!(s, GrantStatus::Rebooting);
    assert_eq!(
        s.after_report(ReportStatus::Downloaded, "old", v),
        GrantStatus::Rebooting
    );
    assert_eq!(
        s.after_report(ReportStatus::Ok, v, v),
        GrantStatus::Succeeded
    );
    assert_eq!(
        s.after_report(ReportStatus::Ok, "old", v),
        GrantStatus::Failed
    );
    assert_eq!(
        s.after_report(ReportStatus::Failed, v, v),
        GrantStatus::Failed
    );
    assert_eq!(
        GrantStatus::Succeeded.after_report(ReportStatus::Failed, v, v),
        GrantStatus::Succeeded,
        "final outcomes stay"
    );
}

#[test]
fn health_waits_for_enough_outcomes_then_judges_the_ratio() {
    let health = policy().health;
    assert_eq!(judge(&counts(19, 0, 0), &health), Verdict::Waiting);
    assert_eq!(judge(&counts(19, 1, 0), &health), Verdict::Healthy);
    assert_eq!(
        judge(&counts(95, 3, 2), &health),
        Verdict::Healthy,
        "5% is at the limit"
    );
    match judge(&counts(17, 2, 1), &health) {
        Verdict::Unhealthy(why) => {
            assert!(why.contains("3 of 20") && why.contains("15.0%"), "{why}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_ticker_holds_then_advances_then_completes() {
    let p = policy();
    let h = &p.health;
    let healthy = counts(20, 0, 0);
    assert_eq!(
        tick(&p.steps, 0, 59.0, &healthy, &healthy, h),
        Tick::Nothing
    );
    assert_eq!(
        tick(&p.steps, 0, 60.0, &healthy, &healthy, h),
        Tick::Advance
    );
    assert_eq!(
        tick(&p.steps, 0, 600.0, &counts(3, 0, 0), &healthy, h),
        Tick::Nothing,
        "an unjudged step does not advance"
    );
    assert_eq!(
        tick(&p.steps, 2, 0.0, &healthy, &healthy, h),
        Tick::Complete
    );
}

#[test]
fn the_ticker_halts_the_moment_the_ratio_is_over() {
    let p = policy();
    let bad = counts(15, 4, 1);
    match tick(&p.steps, 0, 0.0, &bad, &bad, &p.health) {
        Tick::Halt(why) => assert!(why.contains("5 of 20")),
        other => panic!("{other:?}"),
    }
    // Late failures of earlier steps count too, through the whole rollout.
    let whole = counts(30, 10, 0);
    assert!(matches!(
        tick(&p.steps, 1, 0.0, &counts(1, 0, 0), &whole, &p.health),
        Tick::Halt(_)
    ));
}

#[test]
fn advancing_never_lowers_a_hand_raised_percent() {
    let p = policy();
    assert_eq!(advanced_percent(&p.steps, 1, 1.0), 10.0);
    assert_eq!(advanced_percent(&p.steps, 1, 25.0), 25.0);
    assert_eq!(advanced_percent(&p.steps, 9, 25.0), 100.0);
}

#[test]
fn caps_hold_and_say_when_to_retry() {
    let hour = 3_600_000;
    assert_eq!(
        check_caps(499, 0, Some(500), None, Some(0), 10, hour),
        CapVerdict::Allowed
    );
    assert_eq!(
        check_caps(500, 0, Some(500), None, Some(1_000), 1_801_000, hour),
        CapVerdict::Capped {
            retry_after_seconds: 1800
        }
    );
    assert_eq!(
        check_caps(0, 200, None, Some(200), None, 0, hour),
        CapVerdict::Capped {
            retry_after_seconds: 60
        }
    );
    assert_eq!(
        check_caps(10_000, 10_000, None, None, None, 0, hour),
        CapVerdict::Allowed
    );
}

#[test]
fn offers_time_out_without_a_final_report() {
    let timeout = 120 * 60_000;
    assert!(!timed_out(GrantStatus::Rebooting, 0, timeout - 1, timeout));
    assert!(timed_out(GrantStatus::Rebooting, 0, timeout, timeout));
    assert!(timed_out(GrantStatus::Offered, 0, timeout * 2, timeout));
    assert!(!timed_out(GrantStatus::Succeeded, 0, timeout * 2, timeout));
}

#[test]
fn counts_add_up() {
    let mut c = Counts::default();
    c.add(GrantStatus::Offered, 2);
    c.add(GrantStatus::Offered, -1);
    c.add(GrantStatus::Succeeded, 1);
    c.add(GrantStatus::TimedOut, 1);
    assert_eq!(c.in_flight(), 1);
    assert_eq!(c.outcomes(), 2);
    assert_eq!(c.failure_ratio(), 0.5);
    c.add(GrantStatus::Offered, -5);
    assert_eq!(c.offered, 0, "never below zero");
}

#[test]
fn steps_read_as_typed_and_write_back() {
    let steps = parse_steps("1:60, 10%:240m, 100").unwrap();
    assert_eq!(
        steps,
        vec![
            step(1.0, Some(60)),
            step(10.0, Some(240)),
            step(100.0, None)
        ]
    );
    assert_eq!(format_steps(&steps), "1:60, 10:240, 100");
    assert!(parse_steps("ten:5").unwrap_err().contains("percent"));
    assert!(parse_steps("10:soon").unwrap_err().contains("hold"));
    assert_eq!(parse_steps(" ").unwrap(), vec![]);
}

#[test]
fn one_address_gets_its_limit_of_new_offers_a_minute_then_waits_for_the_next() {
    assert_eq!(
        check_address_limit(9, 10, 0, 30_000, 60_000),
        CapVerdict::Allowed
    );
    assert_eq!(
        check_address_limit(10, 10, 0, 30_000, 60_000),
        CapVerdict::Capped {
            retry_after_seconds: 30
        }
    );
    assert_eq!(
        check_address_limit(10, 10, 0, 59_900, 60_000),
        CapVerdict::Capped {
            retry_after_seconds: 1
        }
    );
    assert_eq!(
        check_address_limit(5000, 0, 0, 1, 60_000),
        CapVerdict::Allowed,
        "0 is no limit"
    );
}

#[test]
fn a_lone_replica_leases_all_the_room_the_caps_leave() {
    assert_eq!(lease_size(Some(100), None, 30, 0, 0, 0), Some(70));
    assert_eq!(lease_size(None, Some(50), 0, 45, 0, 0), Some(5));
    assert_eq!(
        lease_size(Some(100), Some(50), 30, 45, 0, 0),
        Some(5),
        "the tighter cap"
    );
    assert_eq!(
        lease_size(None, None, 30, 45, 0, 0),
        None,
        "no cap, no lease"
    );
    assert_eq!(
        lease_size(Some(10), None, 12, 0, 0, 0),
        Some(0),
        "over: nothing"
    );
}

#[test]
fn replicas_share_the_room_and_never_lease_what_another_holds() {
    // Two replicas, neither holding anything yet: half each.
    assert_eq!(lease_size(None, Some(50), 0, 0, 0, 1), Some(25));
    // The other holds 40 unused: only 10 are left, whatever the fair share.
    assert_eq!(lease_size(None, Some(50), 0, 0, 40, 1), Some(10));
    // Three replicas: a third each, rounded up, but never past what is left.
    assert_eq!(lease_size(Some(10), None, 0, 0, 0, 2), Some(4));
    assert_eq!(lease_size(Some(10), None, 0, 0, 8, 2), Some(2));
    // Whatever the others hold, the sum of every lease stays within the cap.
    for held in 0..=60 {
        let mine = lease_size(None, Some(50), 0, 0, held, 1).unwrap();
        assert!(mine + held.min(50) <= 50, "{held}: {mine}");
    }
}
