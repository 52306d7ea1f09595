use super::*;
use std::cmp::Ordering;

fn sorted(mut v: Vec<&str>) -> Vec<&str> {
    v.sort_by(|a, b| release_cmp(a, b));
    v
}

#[test]
fn integer_releases_sort_numerically_and_rolling_zero_sorts_last() {
    assert_eq!(
        sorted(vec!["0", "34", "9", "33", "100"]),
        vec!["9", "33", "34", "100", "0"]
    );
}

#[test]
fn named_releases_sort_naturally_between_numbers_and_rolling() {
    assert_eq!(
        sorted(vec!["0", "f10", "32", "f9", "eln", "F2"]),
        vec!["32", "F2", "eln", "f9", "f10", "0"]
    );
    assert_eq!(natural_cmp("34-beta", "34-alpha"), Ordering::Greater);
    assert_eq!(natural_cmp("rc2", "rc10"), Ordering::Less);
}

#[test]
fn huge_integers_still_sort_numerically() {
    assert_eq!(
        release_cmp("99999999999999999999999", "100000000000000000000000"),
        Ordering::Less
    );
}

#[test]
fn labels_are_one_to_sixty_four_printable_characters() {
    assert!(check_label("release", "34").is_ok());
    assert!(check_label("state", "pre-beta").is_ok());
    assert!(check_label("state", &"é".repeat(64)).is_ok());
    assert_eq!(check_label("state", "").unwrap_err().0, "state");
    assert!(check_label("state", "   ").is_err());
    assert!(check_label("release", &"x".repeat(65)).is_err());
    assert!(check_label("release", "3\n4").is_err());
}

#[test]
fn reached_accepts_only_one_and_zero() {
    assert_eq!(Action::from_reached("1"), Some(Action::Entered));
    assert_eq!(Action::from_reached("0"), Some(Action::Left));
    assert_eq!(Action::from_reached("yes"), None);
    assert_eq!(Action::from_reached(""), None);
}

fn ev(action: Action, at: i64) -> PairEvent {
    PairEvent { action, at }
}

#[test]
fn was_in_state_tells_zero_one_from_zero_zero_and_one_one() {
    let (was, spans) = fold_pair(
        "33",
        "active",
        &[
            ev(Action::Left, 5),     // 0-0: left while out
            ev(Action::Entered, 10), // 0-1
            ev(Action::Entered, 20), // 1-1: nothing changes
            ev(Action::Left, 30),    // 1-0
        ],
    );
    assert_eq!(was, vec![false, false, true, true]);
    assert_eq!(
        spans,
        vec![Span {
            release: "33".into(),
            state: "active".into(),
            entered_at: 10,
            left_at: Some(30)
        }]
    );
}

pub(crate) fn span(release: &str, state: &str, entered_at: i64, left_at: Option<i64>) -> Span {
    Span {
        release: release.into(),
        state: state.into(),
        entered_at,
        left_at,
    }
}

pub(crate) fn fedora() -> Vec<Span> {
    vec![
        span("32", "active", 0, None),
        span("33", "active", 10, None),
        span("33", "branched", 10, Some(40)),
        span("34", "active", 50, None),
        span("34", "branched", 50, None),
        span("34", "pre-beta", 50, Some(70)),
        span("0", "active", 0, None),
        span("0", "development", 0, None),
    ]
}

#[test]
fn states_by_release_at_a_time_lists_what_held_then() {
    let now = states_by_release(&fedora(), 60);
    assert_eq!(
        serde_json::to_string(&now).unwrap(),
        r#"{"32":["active"],"33":["active"],"34":["active","branched","pre-beta"],"0":["active","development"]}"#
    );
    let then = states_by_release(&fedora(), 20);
    assert_eq!(then.get("33").unwrap(), &vec!["active", "branched"]);
    assert!(then.get("34").is_none());
    // The instant a release leaves, it is out; the instant it enters, it is in.
    assert!(states_by_release(&fedora(), 40).get("33").unwrap() == &vec!["active"]);
    assert!(states_by_release(&fedora(), 50).get("34").is_some());
}

#[test]
fn releases_by_state_orders_releases_with_rolling_last() {
    let view = releases_by_state(&fedora(), 60);
    assert_eq!(view.get("active").unwrap(), &vec!["32", "33", "34", "0"]);
    assert_eq!(view.get("branched").unwrap(), &vec!["34"]);
    assert_eq!(view.0[0].0, "active");
}

#[test]
fn history_shows_stays_with_durations_as_of_a_time() {
    let spans = vec![
        span("34", "branched", 1_000, Some(61_000)),
        span("34", "active", 1_000, None),
    ];
    let h = release_history(&spans, "34", 31_000);
    assert_eq!(h.current, vec!["active", "branched"]);
    assert_eq!(h.stays[1].left_at, None);
    assert_eq!(h.stays[1].duration_seconds, 30);
    let later = release_history(&spans, "34", 121_000);
    assert_eq!(later.current, vec!["active"]);
    let branched = later.stays.iter().find(|s| s.state == "branched").unwrap();
    assert_eq!(branched.duration_seconds, 60);
}

#[test]
fn the_timeline_keeps_the_spans_that_overlap_its_window() {
    let spans = vec![
        span("30", "active", 0, Some(100)),
        span("31", "active", 50, Some(250)),
        span("32", "active", 150, None),
        span("33", "active", 400, None),
    ];
    let kept: Vec<String> = spans_overlapping(&spans, 100, 300)
        .into_iter()
        .map(|s| s.release)
        .collect();
    // 30 left at the window's start; 33 entered after its end.
    assert_eq!(kept, vec!["31", "32"]);
}

#[test]
fn the_timeline_starts_a_year_before_the_newest_change() {
    let day = 86_400_000;
    let spans = vec![
        span("30", "active", 0, Some(100 * day)),
        span("31", "active", 500 * day, None),
    ];
    assert_eq!(timeline_since(&spans), 135 * day);
    assert_eq!(
        spans_overlapping(&spans, timeline_since(&spans), 900 * day).len(),
        1
    );
    assert_eq!(timeline_since(&[]), -TIMELINE_WINDOW_MS);
}

#[test]
fn a_busy_year_gets_a_shorter_timeline_with_at_most_the_newest_stays() {
    // Two open stays, then one stay ending each minute: far more than fit in a year.
    let minute = 60_000;
    let mut spans = vec![span("0", "active", 0, None), span("0", "dev", 0, None)];
    for i in 1..=3_000 {
        spans.push(span("1", "beta", (i - 1) * minute, Some(i * minute)));
    }
    let since = timeline_since(&spans);
    let drawn = spans_overlapping(&spans, since, 3_000 * minute);
    assert_eq!(drawn.len(), TIMELINE_MAX_SPANS);
    assert!(
        drawn.iter().any(|s| s.left_at.is_none()),
        "open stays are kept"
    );
    assert!(
        drawn.iter().any(|s| s.left_at == Some(3_000 * minute)),
        "the newest stays are kept"
    );
}

#[test]
fn release_json_lists_only_integer_releases_as_numbers_for_fedfinds_max() {
    let spans = vec![
        span("32", "stable", 0, None),
        span("33", "stable", 0, None),
        span("34-beta", "stable", 0, None),
        span("34", "branched", 0, None),
        span("eln", "branched", 0, None),
        span("035", "branched", 0, None),
    ];
    assert_eq!(
        release_json_entry(&spans, 1, "stable", "branched").to_string(),
        r#"{"branched":[34],"stable":[32,33]}"#
    );
}

#[test]
fn events_carry_rfc3339_times_and_the_ticket_short_form() {
    let e = ReleaseEvent {
        id: 1,
        dist: "fedora".into(),
        release: "33".into(),
        state: "active".into(),
        action: Action::Entered,
        at: 1_603_000_000_000,
        recorded_at: 1_603_000_000_000,
        actor: "adamwill".into(),
        note: String::new(),
        was_in_state: false,
    };
    assert_eq!(e.short(), "33 active 0-1");
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["at"], "2020-10-18T05:46:40Z");
    let back: ReleaseEvent = serde_json::from_value(json).unwrap();
    assert_eq!(back, e);
    assert!(parse_time("yesterday").is_err());
    assert_eq!(parse_time("1970-01-01T00:00:01.5+00:00"), Ok(1500));
}

#[test]
fn rules_fire_only_on_a_real_change_of_the_state_they_watch() {
    let mut e = ReleaseEvent {
        id: 1,
        dist: "fedora".into(),
        release: "34".into(),
        state: "stable".into(),
        action: Action::Entered,
        at: 0,
        recorded_at: 0,
        actor: "a".into(),
        note: String::new(),
        was_in_state: false,
    };
    assert!(rule_fires(Action::Entered, &e));
    assert!(!rule_fires(Action::Left, &e));
    e.was_in_state = true; // 1-1: entered again, nothing changed
    assert!(!rule_fires(Action::Entered, &e));
    e.action = Action::Left; // 1-0
    assert!(rule_fires(Action::Left, &e));
    e.was_in_state = false; // 0-0
    assert!(!rule_fires(Action::Left, &e));
}
