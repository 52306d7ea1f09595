//! The views of the stream at a time, made from the spans open then.

use super::order::is_integer;
use super::{natural_cmp, release_cmp, rfc3339_ms, Span, StreamDist};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
