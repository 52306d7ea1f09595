//! The release stream (seed 004): append-only events "release R of dist D entered / left state
//! S at time T", and the pure rules that turn them into views. The database keeps one *span*
//! per stay of a release in a state (`release_state_spans`), rebuilt from the events of that
//! (release, state) pair on every write; every view at a time is the spans open at that time.

use super::time_fmt::rfc3339_millis;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The longest release or state name, in characters.
pub const LABEL_MAX: usize = 64;
/// The longest note on an event, in characters.
pub const NOTE_MAX: usize = 2000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Entered,
    Left,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Entered => "entered",
            Action::Left => "left",
        }
    }

    /// The ticket's `reached=1|0`.
    pub fn from_reached(value: &str) -> Option<Action> {
        match value {
            "1" => Some(Action::Entered),
            "0" => Some(Action::Left),
            _ => None,
        }
    }

    pub fn parse(value: &str) -> Option<Action> {
        match value {
            "entered" => Some(Action::Entered),
            "left" => Some(Action::Left),
            _ => None,
        }
    }
}

/// Release and state names: 1–64 printable characters (no control characters, not blank).
/// Conventions ("34", "branched") are policy, not code.
pub fn check_label(field: &'static str, value: &str) -> Result<(), (&'static str, String)> {
    let count = value.chars().count();
    if count == 0 || value.trim().is_empty() {
        return Err((field, "must not be empty".into()));
    }
    if count > LABEL_MAX {
        return Err((field, format!("must be at most {LABEL_MAX} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err((field, "must contain only printable characters".into()));
    }
    Ok(())
}

pub fn check_note(note: &str) -> Result<(), (&'static str, String)> {
    if note.chars().count() > NOTE_MAX {
        return Err(("note", format!("must be at most {NOTE_MAX} characters")));
    }
    if note
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(("note", "must not contain control characters".into()));
    }
    Ok(())
}

/// Where a release sorts: integers numerically, then other names in natural order, then the
/// rolling release `0` (Rawhide), which is newer than every numbered one.
pub fn release_cmp(a: &str, b: &str) -> Ordering {
    release_rank(a)
        .cmp(&release_rank(b))
        .then_with(|| match (is_integer(a), is_integer(b)) {
            (true, true) => digits_cmp(a, b),
            _ => natural_cmp(a, b),
        })
        .then_with(|| a.cmp(b))
}

fn release_rank(release: &str) -> u8 {
    if is_integer(release) && release.trim_start_matches('0').is_empty() {
        2
    } else if is_integer(release) {
        0
    } else {
        1
    }
}

fn is_integer(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Compares two runs of digits by value without parsing (they may exceed u64).
fn digits_cmp(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// "f9" < "f10": runs of digits compare by value, the rest character by character.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let an = a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len());
                let bn = b.find(|c: char| !c.is_ascii_digit()).unwrap_or(b.len());
                match digits_cmp(&a[..an], &b[..bn]) {
                    Ordering::Equal => {
                        a = &a[an..];
                        b = &b[bn..];
                    }
                    other => return other,
                }
            }
            (Some(x), Some(y)) => match x.cmp(&y) {
                Ordering::Equal => {
                    a = &a[x.len_utf8()..];
                    b = &b[y.len_utf8()..];
                }
                other => return other,
            },
        }
    }
}

/// Times on the wire are RFC 3339; in storage and in memory, Unix milliseconds.
pub mod rfc3339_ms {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(millis: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::rfc3339_millis(*millis))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_time(&text).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(millis: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
            match millis {
                Some(m) => s.serialize_str(&super::super::rfc3339_millis(*m)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
            match Option::<String>::deserialize(d)? {
                Some(text) => super::super::parse_time(&text)
                    .map(Some)
                    .map_err(serde::de::Error::custom),
                None => Ok(None),
            }
        }
    }
}

/// The time a request's `field` gives, with the field named when it is not one.
pub fn parse_time_field(field: &'static str, text: &str) -> Result<i64, (&'static str, String)> {
    parse_time(text).map_err(|message| (field, message))
}

/// An RFC 3339 time as Unix milliseconds.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| format!("'{text}' is not an RFC 3339 time (e.g. 2021-04-27T14:00:00Z)"))?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// One stored event, as the API answers it and the export writes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseEvent {
    pub id: i64,
    pub dist: String,
    pub release: String,
    pub state: String,
    pub action: Action,
    /// When it happened.
    #[serde(with = "rfc3339_ms")]
    pub at: i64,
    /// When Sluice wrote it down.
    #[serde(with = "rfc3339_ms")]
    pub recorded_at: i64,
    pub actor: String,
    #[serde(default)]
    pub note: String,
    /// Whether the release was in the state just before this event (the ticket's "0-1" is
    /// `was_in_state: false` on an `entered` event).
    pub was_in_state: bool,
}

impl ReleaseEvent {
    /// Whether the release is in the state right after this event.
    pub fn in_state(&self) -> bool {
        self.action == Action::Entered
    }

    /// The ticket's message form: "33 active 0-1".
    pub fn short(&self) -> String {
        format!(
            "{} {} {}-{}",
            self.release,
            self.state,
            u8::from(self.was_in_state),
            u8::from(self.in_state())
        )
    }
}

/// One stay of a release in a state: from `entered_at` until `left_at` (open when `None`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub release: String,
    pub state: String,
    pub entered_at: i64,
    pub left_at: Option<i64>,
}

impl Span {
    pub fn holds_at(&self, at: i64) -> bool {
        self.entered_at <= at && self.left_at.is_none_or(|left| left > at)
    }
}

/// The events of one (release, state) pair, in stream order (by `at`, then id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairEvent {
    pub action: Action,
    pub at: i64,
}

/// Replays one pair's events: whether the release was in the state before each event, and
/// the spans they make. Entering twice or leaving while out changes nothing (but is kept,
/// with its `was_in_state`, as the ticket's "0-0" message).
pub fn fold_pair(release: &str, state: &str, events: &[PairEvent]) -> (Vec<bool>, Vec<Span>) {
    let mut was = Vec::with_capacity(events.len());
    let mut spans = Vec::new();
    let mut open: Option<i64> = None;
    for event in events {
        was.push(open.is_some());
        match (event.action, open) {
            (Action::Entered, None) => open = Some(event.at),
            (Action::Left, Some(entered_at)) => {
                spans.push(Span {
                    release: release.to_string(),
                    state: state.to_string(),
                    entered_at,
                    left_at: Some(event.at),
                });
                open = None;
            }
            _ => {}
        }
    }
    if let Some(entered_at) = open {
        spans.push(Span {
            release: release.to_string(),
            state: state.to_string(),
            entered_at,
            left_at: None,
        });
    }
    (was, spans)
}

/// A JSON object whose keys keep the order given (releases in release order, states by name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderedMap(pub Vec<(String, Vec<String>)>);

impl Serialize for OrderedMap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for OrderedMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = OrderedMap;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of string lists")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<OrderedMap, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = access.next_entry::<String, Vec<String>>()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }
        d.deserialize_map(Visit)
    }
}

impl OrderedMap {
    pub fn get(&self, key: &str) -> Option<&Vec<String>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// `{"34": ["active", "branched"], …}` at `at`: releases in release order, states by name.
pub fn states_by_release(spans: &[Span], at: i64) -> OrderedMap {
    let mut by_release: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for span in spans.iter().filter(|s| s.holds_at(at)) {
        by_release
            .entry(&span.release)
            .or_default()
            .push(span.state.clone());
    }
    let mut entries: Vec<(String, Vec<String>)> = by_release
        .into_iter()
        .map(|(release, mut states)| {
            states.sort_by(|a, b| natural_cmp(a, b).then_with(|| a.cmp(b)));
            states.dedup();
            (release.to_string(), states)
        })
        .collect();
    entries.sort_by(|a, b| release_cmp(&a.0, &b.0));
    OrderedMap(entries)
}

/// `{"active": ["32", "33", "34", "0"], …}` at `at`: states by name, releases in release order.
pub fn releases_by_state(spans: &[Span], at: i64) -> OrderedMap {
    let mut by_state: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for span in spans.iter().filter(|s| s.holds_at(at)) {
        by_state
            .entry(&span.state)
            .or_default()
            .push(span.release.clone());
    }
    let mut entries: Vec<(String, Vec<String>)> = by_state
        .into_iter()
        .map(|(state, mut releases)| {
            releases.sort_by(|a, b| release_cmp(a, b));
            releases.dedup();
            (state.to_string(), releases)
        })
        .collect();
    entries.sort_by(|a, b| natural_cmp(&a.0, &b.0).then_with(|| a.0.cmp(&b.0)));
    OrderedMap(entries)
}

/// One stay in a release's history, as seen at some time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stay {
    pub state: String,
    #[serde(with = "rfc3339_ms")]
    pub entered_at: i64,
    /// `None` while the release is still in the state (at the time asked about).
    #[serde(with = "rfc3339_ms::option")]
    pub left_at: Option<i64>,
    /// How long the stay lasted, or has lasted so far, in seconds.
    pub duration_seconds: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseHistory {
    pub release: String,
    #[serde(with = "rfc3339_ms")]
    pub at: i64,
    /// The states the release is in at `at`.
    pub current: Vec<String>,
    /// Every stay that began by `at`, oldest first.
    pub stays: Vec<Stay>,
}

/// A release's stays as they looked at `at`: later entries are left out, later leaves are open.
pub fn release_history(spans: &[Span], release: &str, at: i64) -> ReleaseHistory {
    let mut stays: Vec<Stay> = spans
        .iter()
        .filter(|s| s.release == release && s.entered_at <= at)
        .map(|s| {
            let left_at = s.left_at.filter(|left| *left <= at);
            Stay {
                state: s.state.clone(),
                entered_at: s.entered_at,
                left_at,
                duration_seconds: (left_at.unwrap_or(at) - s.entered_at) / 1000,
            }
        })
        .collect();
    stays.sort_by(|a, b| {
        a.entered_at
            .cmp(&b.entered_at)
            .then_with(|| a.state.cmp(&b.state))
    });
    let mut current: Vec<String> = stays
        .iter()
        .filter(|s| s.left_at.is_none())
        .map(|s| s.state.clone())
        .collect();
    current.sort_by(|a, b| natural_cmp(a, b));
    current.dedup();
    ReleaseHistory {
        release: release.to_string(),
        at,
        current,
        stays,
    }
}

/// One dist in `release.json`: `{"stable": [32, 33], "branched": [34]}`, in release order.
/// Only releases that are integers are listed: fedfind takes `max()` of each list, and one
/// name (`eln`, a `34-beta` typo) among the numbers makes it fail with a `TypeError`. Other
/// releases stay in every other view.
pub fn release_json_entry(
    spans: &[Span],
    at: i64,
    stable_state: &str,
    branched_state: &str,
) -> serde_json::Value {
    let by_state = releases_by_state(spans, at);
    let list = |state: &str| -> serde_json::Value {
        let releases = by_state.get(state).cloned().unwrap_or_default();
        serde_json::Value::Array(
            releases
                .into_iter()
                .filter_map(|r| match r.parse::<u64>() {
                    Ok(n) if is_integer(&r) && r == n.to_string() => {
                        Some(serde_json::Value::from(n))
                    }
                    _ => None,
                })
                .collect(),
        )
    };
    serde_json::json!({ "stable": list(stable_state), "branched": list(branched_state) })
}

/// An event as a release manager, a script or the ticket's form submits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReleaseEvent {
    pub dist: String,
    pub release: String,
    pub state: String,
    pub action: Action,
    /// When it happened; now when absent.
    #[serde(default, with = "rfc3339_ms::option")]
    pub at: Option<i64>,
    #[serde(default)]
    pub note: String,
}

impl NewReleaseEvent {
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        super::dist::check_slug("dist", &self.dist)?;
        check_label("release", &self.release)?;
        check_label("state", &self.state)?;
        check_note(&self.note)
    }
}

/// A dist as the release stream and the public pages see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamDist {
    pub name: String,
    /// Shown on the public status page and in `release.json`.
    pub public: bool,
    /// The state listed as "stable" in `release.json`.
    pub stable_state: String,
    /// The state listed as "branched" in `release.json`.
    pub branched_state: String,
}

/// What an admin may change about a dist's public face.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamDistSettings {
    pub public: bool,
    #[serde(default = "default_stable_state")]
    pub stable_state: String,
    #[serde(default = "default_branched_state")]
    pub branched_state: String,
}

fn default_stable_state() -> String {
    "stable".into()
}

fn default_branched_state() -> String {
    "branched".into()
}

impl StreamDistSettings {
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        check_label("stable_state", &self.stable_state)?;
        check_label("branched_state", &self.branched_state)
    }
}

/// Everything the status page of one dist shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusPageData {
    pub dist: StreamDist,
    pub now: i64,
    /// The time the tables show (`?at=`; `now` unless asked).
    pub at: i64,
    pub states_by_release: Vec<(String, Vec<String>)>,
    pub releases_by_state: Vec<(String, Vec<String>)>,
    /// Where the timeline chart may start (`timeline_since`).
    pub since: i64,
    /// The spans that overlap `(since, now]`, for the timeline chart.
    pub spans: Vec<Span>,
}

/// How far back the status page's timeline goes at most. A year shows the life of every
/// current release at a glance, and the page stays small however long the stream grows.
pub const TIMELINE_WINDOW_MS: i64 = 365 * 86_400_000;

/// How many stays the timeline draws at most. A busier year gets a shorter window: more bars
/// would not fit the chart's width, and would make the page heavy on a phone.
pub const TIMELINE_MAX_SPANS: usize = 1_000;

/// Where the status page's timeline starts: a year before the stream's newest change (so a
/// stream that has been quiet for a while still shows its last year of changes), or later if
/// more than `TIMELINE_MAX_SPANS` stays overlap that year.
pub fn timeline_since(spans: &[Span]) -> i64 {
    let newest = spans
        .iter()
        .map(|s| s.left_at.unwrap_or(s.entered_at).max(s.entered_at))
        .max()
        .unwrap_or(0);
    let year_before = newest - TIMELINE_WINDOW_MS;
    let mut ends: Vec<i64> = spans.iter().filter_map(|s| s.left_at).collect();
    let open = spans.len() - ends.len();
    let room = TIMELINE_MAX_SPANS.saturating_sub(open);
    if spans.len() <= TIMELINE_MAX_SPANS || room >= ends.len() {
        return year_before;
    }
    // The open stays, and the stays that ended after the (room + 1)-th latest end, fit.
    ends.select_nth_unstable_by(room, |a, b| b.cmp(a));
    year_before.max(ends[room])
}

/// The spans that overlap `(since, now]`: begun by `now` and not left by `since`.
pub fn spans_overlapping(spans: &[Span], since: i64, now: i64) -> Vec<Span> {
    spans
        .iter()
        .filter(|s| s.entered_at <= now && s.left_at.is_none_or(|left| left > since))
        .cloned()
        .collect()
}

/// What a rule does when it fires. The staged-locks work adds its flush action here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleAction {
    /// Sends the event, signed, to one registered webhook (and only to it).
    Webhook { webhook_id: i64 },
}

/// "When a release of `dist` enters (or leaves) `state`, do `action`."
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRule {
    pub id: i64,
    pub dist: String,
    pub state: String,
    pub on: Action,
    pub action: RuleAction,
    pub active: bool,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReleaseRule {
    pub dist: String,
    pub state: String,
    #[serde(default = "entered")]
    pub on: Action,
    pub action: RuleAction,
}

fn entered() -> Action {
    Action::Entered
}

/// A rule fires on a real change only: entering while out (0-1), or leaving while in (1-0).
pub fn rule_fires(rule_on: Action, event: &ReleaseEvent) -> bool {
    event.action == rule_on && event.was_in_state != event.in_state()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

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
}
