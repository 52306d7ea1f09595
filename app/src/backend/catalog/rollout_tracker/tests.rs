//! The tracker's decisions, from memory alone: no database is needed to offer, cap, count or
//! time out.

use super::*;
use crate::model::catalog::OfferableBuild;
use crate::model::device_report::ReportStatus;
use crate::model::rollout::NewRollout;
use crate::model::version::VersionScheme;

const MINUTE: i64 = 60_000;
const OLD: &str = "master-2017-08-24-1";
const NEW: &str = "master-2017-08-26-1";

fn key(version: &str) -> VersionKey {
    VersionScheme::Dated.key(version, None).unwrap()
}

/// A running rollout of NEW to every rpi3 (100%), with the given policy changes.
fn rollout(change: impl FnOnce(&mut NewRollout)) -> ActiveRollout {
    let mut policy = NewRollout::publish("recalbox", "stable", NEW);
    change(&mut policy);
    ActiveRollout {
        id: 7,
        channel: "stable".into(),
        build: Arc::new(OfferableBuild {
            id: 1,
            branch: "master".into(),
            version: NEW.into(),
            key: key(NEW),
            base_url: "https://example.com".into(),
            files: [("rpi3".to_string(), Vec::new())].into_iter().collect(),
        }),
        state: RolloutState::Running,
        current_step: 0,
        percent: policy.steps[0].percent,
        step_started_at: 0,
        salt: "salt".into(),
        policy,
        canary: HashSet::new(),
        deny: HashSet::new(),
    }
}

fn address(last: u8) -> IpAddr {
    IpAddr::from([192, 0, 2, last])
}

fn decide(tracker: &RolloutTracker, rollout: &ActiveRollout, uuid: &str, now: i64) -> Decision {
    decide_from(tracker, rollout, uuid, address(1), now)
}

fn decide_from(
    tracker: &RolloutTracker,
    rollout: &ActiveRollout,
    uuid: &str,
    from: IpAddr,
    now: i64,
) -> Decision {
    tracker.decide(rollout, "rpi3", Some(&key(OLD)), None, uuid, from, now)
}

fn report(uuid: &str, status: ReportStatus, version: &str) -> DeviceReport {
    DeviceReport {
        board: "rpi3".into(),
        uuid: uuid.into(),
        user: String::new(),
        boardversion: version.into(),
        branch: "stable".into(),
        update_time_seconds: None,
        status,
        error: None,
        dist: None,
    }
}

#[test]
fn a_device_in_the_cohort_is_offered_once_and_keeps_its_offer() {
    let tracker = RolloutTracker::new(MINUTE, 0);
    let rollout = rollout(|_| {});
    assert_eq!(decide(&tracker, &rollout, "u1", 1), Decision::Offer);
    assert_eq!(decide(&tracker, &rollout, "u1", 2), Decision::Offer);
    assert_eq!(
        tracker.lock().pending.len(),
        1,
        "one offer to write, not two"
    );
    let counts = tracker.counts(rollout.id, 2).unwrap();
    assert_eq!(counts.whole.offered, 1);
    assert_eq!(counts.grants_last_hour, 1);
}

#[test]
fn a_device_already_on_the_build_or_on_another_board_gets_the_baseline() {
    let tracker = RolloutTracker::new(MINUTE, 0);
    let rollout = rollout(|_| {});
    let on_new = tracker.decide(&rollout, "rpi3", Some(&key(NEW)), None, "u1", address(1), 1);
    assert_eq!(on_new, Decision::Baseline);
    let other_board = tracker.decide(&rollout, "x86", Some(&key(OLD)), None, "u2", address(1), 1);
    assert_eq!(other_board, Decision::Baseline);
    assert!(tracker.lock().pending.is_empty());
}

#[test]
fn denied_devices_and_devices_outside_the_percent_get_the_baseline() {
    let tracker = RolloutTracker::new(MINUTE, 0);
    let mut none = rollout(|_| {});
    none.percent = 0.0;
    none.canary.insert("canary".into());
    assert_eq!(decide(&tracker, &none, "u1", 1), Decision::Baseline);
    assert_eq!(decide(&tracker, &none, "canary", 1), Decision::Offer);
    let mut denied = rollout(|_| {});
    denied.deny.insert("u2".into());
    assert_eq!(decide(&tracker, &denied, "u2", 1), Decision::Baseline);
}

#[test]
fn the_in_flight_cap_holds_new_devices_back_with_a_retry_hint() {
    let tracker = RolloutTracker::new(MINUTE, 0);
    let rollout = rollout(|p| p.max_in_flight = Some(2));
    tracker.hold_lease(rollout.id, 100, i64::MAX);
    assert_eq!(decide(&tracker, &rollout, "u1", 1), Decision::Offer);
    assert_eq!(decide(&tracker, &rollout, "u2", 1), Decision::Offer);
    assert!(matches!(
        decide(&tracker, &rollout, "u3", 1),
        Decision::Capped { retry_after_seconds } if retry_after_seconds > 0
    ));
    // A device that finishes frees its place.
    tracker.on_report(&rollout, &report("u1", ReportStatus::Ok, NEW), 2);
    assert_eq!(decide(&tracker, &rollout, "u3", 3), Decision::Offer);
}

#[test]
fn a_capped_rollout_offers_only_what_this_replicas_slice_allows_while_it_lasts() {
    let tracker = RolloutTracker::new(MINUTE, 0);
    let rollout = rollout(|p| p.max_in_flight = Some(100));
    assert!(
        matches!(decide(&tracker, &rollout, "u1", 1), Decision::Capped { .. }),
        "no slice yet: the other replicas may hold the whole cap"
    );
    tracker.hold_lease(rollout.id, 2, 1000);
    assert_eq!(decide(&tracker, &rollout, "u1", 2), Decision::Offer);
    assert_eq!(
        decide(&tracker, &rollout, "u1", 3),
        Decision::Offer,
        "asking again"
    );
    assert_eq!(decide(&tracker, &rollout, "u2", 4), Decision::Offer);
    assert!(matches!(
        decide(&tracker, &rollout, "u3", 5),
        Decision::Capped { retry_after_seconds } if retry_after_seconds > 0
    ));
    // The next slice counts from every offer made so far.
    tracker.hold_lease(rollout.id, 3, 1000);
    assert_eq!(decide(&tracker, &rollout, "u3", 6), Decision::Offer);
    assert!(matches!(
        decide(&tracker, &rollout, "u4", 7),
        Decision::Capped { .. }
    ));
    tracker.hold_lease(rollout.id, 10, 1000);
    assert!(
        matches!(
            decide(&tracker, &rollout, "u4", 1000),
            Decision::Capped { .. }
        ),
        "an expired slice is no slice"
    );
    let uncapped = ActiveRollout {
        id: 8,
        ..rollout.clone()
    };
    let uncapped = ActiveRollout {
        policy: NewRollout::publish("recalbox", "stable", NEW),
        ..uncapped
    };
    assert_eq!(
        decide(&tracker, &uncapped, "u9", 1),
        Decision::Offer,
        "no cap, no slice needed"
    );
}

#[test]
fn the_hourly_cap_counts_offers_of_the_last_hour_only() {
    let tracker = RolloutTracker::new(MINUTE, 0);
    let rollout = rollout(|p| p.max_grants_per_hour = Some(1));
    tracker.hold_lease(rollout.id, 100, i64::MAX);
    assert_eq!(decide(&tracker, &rollout, "u1", 0), Decision::Offer);
    assert!(matches!(
        decide(&tracker, &rollout, "u2", MINUTE),
        Decision::Capped { .. }
    ));
    assert_eq!(
        decide(&tracker, &rollout, "u2", 60 * MINUTE),
        Decision::Offer
    );
}

#[test]
fn one_address_gets_its_limit_of_new_offers_per_minute() {
    let tracker = RolloutTracker::new(MINUTE, 2);
    let rollout = rollout(|_| {});
    let from = address(66);
    assert_eq!(
        decide_from(&tracker, &rollout, "a", from, 0),
        Decision::Offer
    );
    assert_eq!(
        decide_from(&tracker, &rollout, "b", from, 1),
        Decision::Offer
    );
    assert!(matches!(
        decide_from(&tracker, &rollout, "c", from, 2),
        Decision::Capped { .. }
    ));
    assert_eq!(
        decide_from(&tracker, &rollout, "d", address(67), 3),
        Decision::Offer,
        "other addresses are not held back"
    );
    assert_eq!(
        decide_from(&tracker, &rollout, "c", from, MINUTE + 2),
        Decision::Offer,
        "the count starts afresh every minute"
    );
}

#[test]
fn timed_out_devices_are_failures_and_are_not_offered_again() {
    let tracker = RolloutTracker::new(MINUTE, 0);
    let rollout = rollout(|_| {});
    assert_eq!(decide(&tracker, &rollout, "u1", 0), Decision::Offer);
    // The database decides which offers timed out (whichever replica made them).
    tracker.timed_out(rollout.id, &["u1".to_string(), "elsewhere".to_string()]);
    let counts = tracker.counts(rollout.id, MINUTE).unwrap();
    assert_eq!((counts.whole.offered, counts.whole.timed_out), (0, 1));
    assert_eq!(
        decide(&tracker, &rollout, "u1", 11 * MINUTE),
        Decision::Baseline,
        "a timed-out device is not offered the build again"
    );
}

#[test]
fn the_shared_counts_replace_the_local_ones_plus_the_offers_not_written_yet() {
    let tracker = RolloutTracker::new(MINUTE, 0);
    let rollout = rollout(|_| {});
    decide(&tracker, &rollout, "mine", 1);
    let mut stored = Counts::default();
    stored.add(GrantStatus::Succeeded, 40);
    stored.add(GrantStatus::Offered, 2);
    tracker.adopt_counts(rollout.id, vec![stored]);
    let counts = tracker.counts(rollout.id, 2).unwrap();
    assert_eq!(
        (counts.whole.succeeded, counts.whole.offered),
        (40, 3),
        "the stored ones and the offer this replica has not written"
    );
    assert_eq!(counts.steps, vec![counts.whole]);
}

#[test]
fn reports_move_a_devices_standing_where_it_was_offered() {
    let tracker = RolloutTracker::new(MINUTE, 0);
    let rollout = rollout(|_| {});
    // Another replica may have offered it: the report moves that stored offer, if any.
    let elsewhere = tracker
        .on_report(&rollout, &report("elsewhere", ReportStatus::Ok, NEW), 1)
        .unwrap();
    assert!(!elsewhere.offered_here);
    assert_eq!(elsewhere.row.status, GrantStatus::Succeeded);
    assert_eq!(tracker.counts(rollout.id, 1), None, "nothing counted here");
    decide(&tracker, &rollout, "u1", 1);
    let started = tracker.on_report(&rollout, &report("u1", ReportStatus::Started, OLD), 2);
    let started = started.unwrap();
    assert!(started.offered_here);
    assert_eq!(started.row.status, GrantStatus::Downloading);
    let failed = tracker.on_report(&rollout, &report("u1", ReportStatus::Failed, OLD), 3);
    assert_eq!(failed.unwrap().row.status, GrantStatus::Failed);
    assert!(
        tracker
            .on_report(&rollout, &report("u1", ReportStatus::Ok, NEW), 4)
            .is_none(),
        "a final standing stays"
    );
    assert_eq!(tracker.counts(rollout.id, 4).unwrap().whole.failed, 1);
}

#[test]
fn reports_of_devices_that_cannot_have_been_offered_move_nothing() {
    let tracker = RolloutTracker::new(MINUTE, 0);
    let mut other_board = report("u1", ReportStatus::Failed, OLD);
    other_board.board = "x86_64".into();
    assert!(tracker
        .on_report(&rollout(|_| {}), &other_board, 1)
        .is_none());
    let denied = ActiveRollout {
        deny: ["u1".to_string()].into_iter().collect(),
        ..rollout(|_| {})
    };
    assert!(tracker
        .on_report(&denied, &report("u1", ReportStatus::Failed, OLD), 1)
        .is_none());
}

#[test]
fn a_held_rollout_offers_nothing_new_but_keeps_its_devices() {
    let tracker = RolloutTracker::new(MINUTE, 0);
    let rollout = rollout(|_| {});
    decide(&tracker, &rollout, "u1", 1);
    tracker.hold(rollout.id);
    assert_eq!(decide(&tracker, &rollout, "u2", 2), Decision::Baseline);
    assert_eq!(
        decide(&tracker, &rollout, "u1", 2),
        Decision::Baseline,
        "an offer not yet taken is withdrawn"
    );
}
