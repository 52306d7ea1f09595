//! A dist's spans together with every enter and leave they hold, sorted by time once per
//! change of the stream. A diff then finds its window by binary search and lends it out,
//! instead of scanning, sorting and copying every span on each request.

use super::release_stream::{release_cmp, rfc3339_ms, Action, Span};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::OnceLock;

#[derive(Debug, Default)]
pub struct Timeline {
    spans: Vec<Span>,
    /// Every enter and leave, in the order a diff lists them. Sorted on the first diff: the
    /// other views never need it.
    moments: OnceLock<Vec<Moment>>,
    /// The moments as JSON, written on the first diff asked for as JSON.
    moments_json: OnceLock<Option<MomentsJson>>,
}

/// Each moment as the JSON of its `Transition`, followed by a comma, back to back. A diff's
/// transitions are a run of consecutive moments, so their JSON is one slice of `text`: the
/// API's diff then costs a copy instead of formatting thousands of times and names.
#[derive(Debug, Default)]
struct MomentsJson {
    text: String,
    /// Where each moment's JSON starts in `text`, and then the end of `text`.
    starts: Vec<usize>,
}

#[derive(Clone, Copy, Debug)]
struct Moment {
    at: i64,
    /// Index into `spans`.
    span: usize,
    action: Action,
}

/// A change of state that took effect between two times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition<'a> {
    #[serde(with = "rfc3339_ms")]
    pub at: i64,
    pub release: Cow<'a, str>,
    pub state: Cow<'a, str>,
    pub action: Action,
}

/// A (release, state) pair.
pub type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// What changed between two times. It borrows the timeline's names: answering thousands of
/// transitions would otherwise copy two strings for each. `into_owned` detaches it (for a page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff<'a> {
    #[serde(with = "rfc3339_ms")]
    pub from: i64,
    #[serde(with = "rfc3339_ms")]
    pub to: i64,
    /// Every effective enter and leave in `(from, to]`, in time order.
    pub transitions: Vec<Transition<'a>>,
    /// Net result: (release, state) pairs held at `to` but not at `from`…
    pub entered: Vec<Pair<'a>>,
    /// …and held at `from` but not at `to`.
    pub left: Vec<Pair<'a>>,
}

impl Diff<'_> {
    pub fn into_owned(self) -> Diff<'static> {
        let owned = |(release, state): Pair<'_>| -> Pair<'static> {
            (
                Cow::Owned(release.into_owned()),
                Cow::Owned(state.into_owned()),
            )
        };
        Diff {
            from: self.from,
            to: self.to,
            transitions: self
                .transitions
                .into_iter()
                .map(|t| Transition {
                    at: t.at,
                    release: Cow::Owned(t.release.into_owned()),
                    state: Cow::Owned(t.state.into_owned()),
                    action: t.action,
                })
                .collect(),
            entered: self.entered.into_iter().map(owned).collect(),
            left: self.left.into_iter().map(owned).collect(),
        }
    }
}

impl Timeline {
    pub fn new(spans: Vec<Span>) -> Timeline {
        Timeline {
            spans,
            moments: OnceLock::new(),
            moments_json: OnceLock::new(),
        }
    }

    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// What changed between `from` and `to` (taken in time order, whichever is given first):
    /// every effective enter and leave in `(from, to]`, and the net change.
    pub fn diff(&self, from: i64, to: i64) -> Diff<'_> {
        let (from, to) = in_order(from, to);
        let window = self.window(from, to);
        let transitions = self.moments()[window]
            .iter()
            .map(|m| self.transition(m))
            .collect();
        Diff {
            transitions,
            ..self.net_change(from, to)
        }
    }

    /// `diff(from, to)` as JSON, byte for byte what serialising it gives, but with the
    /// transitions copied from their JSON written once per change of the stream.
    pub fn diff_json(&self, from: i64, to: i64) -> Result<String, serde_json::Error> {
        const NO_TRANSITIONS: &str = "\"transitions\":[]";
        let (from, to) = in_order(from, to);
        let shell = serde_json::to_string(&self.net_change(from, to))?;
        // The times come before it and cannot hold a quote, so the first match is the field.
        let (Some(json), Some(at)) = (self.moments_json(), shell.find(NO_TRANSITIONS)) else {
            return serde_json::to_string(&self.diff(from, to));
        };
        let window = self.window(from, to);
        let transitions = if window.is_empty() {
            ""
        } else {
            // Without the comma that follows the last one.
            &json.text[json.starts[window.start]..json.starts[window.end] - 1]
        };
        let split = at + NO_TRANSITIONS.len() - 1;
        let mut out = String::with_capacity(shell.len() + transitions.len());
        out.push_str(&shell[..split]);
        out.push_str(transitions);
        out.push_str(&shell[split..]);
        Ok(out)
    }

    /// The moments a diff of `(from, to]` lists.
    fn window(&self, from: i64, to: i64) -> std::ops::Range<usize> {
        let moments = self.moments();
        let start = moments.partition_point(|m| m.at <= from);
        let end = moments.partition_point(|m| m.at <= to).max(start);
        start..end
    }

    fn transition(&self, moment: &Moment) -> Transition<'_> {
        let span = &self.spans[moment.span];
        Transition {
            at: moment.at,
            release: Cow::Borrowed(&span.release),
            state: Cow::Borrowed(&span.state),
            action: moment.action,
        }
    }

    /// A diff without its transitions: the times and the net change.
    fn net_change(&self, from: i64, to: i64) -> Diff<'_> {
        let (before, after) = (self.held(from), self.held(to));
        Diff {
            from,
            to,
            transitions: Vec::new(),
            entered: only_in(&after, &before),
            left: only_in(&before, &after),
        }
    }

    /// `None` if some transition could not be written (it is strings and a time, so never in
    /// practice); a diff then serialises as it would without the kept JSON.
    fn moments_json(&self) -> Option<&MomentsJson> {
        self.moments_json
            .get_or_init(|| {
                let moments = self.moments();
                let mut json = MomentsJson {
                    text: String::with_capacity(moments.len() * 80),
                    starts: Vec::with_capacity(moments.len() + 1),
                };
                for moment in moments {
                    json.starts.push(json.text.len());
                    json.text
                        .push_str(&serde_json::to_string(&self.transition(moment)).ok()?);
                    json.text.push(',');
                }
                json.starts.push(json.text.len());
                Some(json)
            })
            .as_ref()
    }

    fn moments(&self) -> &[Moment] {
        self.moments.get_or_init(|| sorted_moments(&self.spans))
    }

    /// The (release, state) pairs held at `at`, in release order, then by state.
    fn held(&self, at: i64) -> Vec<(&str, &str)> {
        let mut pairs: Vec<(&str, &str)> = self
            .spans
            .iter()
            .filter(|s| s.holds_at(at))
            .map(|s| (s.release.as_str(), s.state.as_str()))
            .collect();
        pairs.sort_by(|a, b| release_cmp(a.0, b.0).then_with(|| a.1.cmp(b.1)));
        pairs.dedup();
        pairs
    }
}

fn in_order(a: i64, b: i64) -> (i64, i64) {
    (a.min(b), a.max(b))
}

/// The pairs of `these` that are not in `those`, in the order of `these`.
fn only_in<'a>(these: &[(&'a str, &'a str)], those: &[(&'a str, &'a str)]) -> Vec<Pair<'a>> {
    let those: HashSet<_> = those.iter().collect();
    these
        .iter()
        .filter(|p| !those.contains(p))
        .map(|(release, state)| (Cow::Borrowed(*release), Cow::Borrowed(*state)))
        .collect()
}

/// Every enter and leave of the spans: by time, then release order, state, and a leave before
/// an enter.
fn sorted_moments(spans: &[Span]) -> Vec<Moment> {
    let mut moments = Vec::with_capacity(spans.len() * 2);
    for (index, span) in spans.iter().enumerate() {
        moments.push(Moment {
            at: span.entered_at,
            span: index,
            action: Action::Entered,
        });
        if let Some(left_at) = span.left_at {
            moments.push(Moment {
                at: left_at,
                span: index,
                action: Action::Left,
            });
        }
    }
    moments.sort_unstable_by(|a, b| {
        let (sa, sb) = (&spans[a.span], &spans[b.span]);
        a.at.cmp(&b.at)
            .then_with(|| release_cmp(&sa.release, &sb.release))
            .then_with(|| sa.state.cmp(&sb.state))
            .then_with(|| (a.action == Action::Entered).cmp(&(b.action == Action::Entered)))
    });
    moments
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::release_stream::tests::{self as spans, span};

    fn fedora() -> Timeline {
        Timeline::new(spans::fedora())
    }

    fn names<'a>(pairs: &'a [Pair<'_>]) -> Vec<(&'a str, &'a str)> {
        pairs
            .iter()
            .map(|(r, s)| (r.as_ref(), s.as_ref()))
            .collect()
    }

    #[test]
    fn an_owned_diff_reads_back_from_its_json_unchanged() {
        let timeline = fedora();
        let owned = timeline.diff(20, 60).into_owned();
        let json = serde_json::to_string(&owned).unwrap();
        assert_eq!(serde_json::from_str::<Diff<'static>>(&json).unwrap(), owned);
    }

    fn listed(diff: &Diff<'_>) -> Vec<String> {
        diff.transitions
            .iter()
            .map(|t| format!("{} {} {} {}", t.at, t.release, t.state, t.action.as_str()))
            .collect()
    }

    #[test]
    fn diff_lists_transitions_between_two_times_and_the_net_change() {
        let timeline = fedora();
        let d = timeline.diff(20, 60);
        assert_eq!(
            listed(&d),
            vec![
                "40 33 branched left",
                "50 34 active entered",
                "50 34 branched entered",
                "50 34 pre-beta entered"
            ]
        );
        assert_eq!(names(&d.left), vec![("33", "branched")]);
        assert_eq!(
            names(&d.entered),
            vec![("34", "active"), ("34", "branched"), ("34", "pre-beta")]
        );
        assert!(timeline.diff(60, 60).transitions.is_empty());
        assert_eq!(timeline.diff(60, 20), d);
    }

    #[test]
    fn the_window_leaves_out_its_start_and_keeps_its_end() {
        // (from, to]: what happened at `from` is already in the "before" state.
        assert_eq!(
            listed(&fedora().diff(40, 70)),
            vec![
                "50 34 active entered",
                "50 34 branched entered",
                "50 34 pre-beta entered",
                "70 34 pre-beta left"
            ]
        );
        // Entering and leaving inside the window: both listed, no net change.
        let timeline = fedora();
        let d = timeline.diff(45, 80);
        assert!(!names(&d.entered).contains(&("34", "pre-beta")));
        assert!(d.left.is_empty());
    }

    #[test]
    fn same_time_transitions_sort_by_release_then_state_with_leaves_first() {
        let timeline = Timeline::new(vec![
            span("0", "active", 5, None),
            span("10", "beta", 1, Some(5)),
            span("10", "active", 5, None),
            span("9", "active", 5, None),
        ]);
        assert_eq!(
            listed(&timeline.diff(0, 5)),
            vec![
                "1 10 beta entered",
                "5 9 active entered",
                "5 10 active entered",
                "5 10 beta left",
                "5 0 active entered"
            ]
        );
    }

    #[test]
    fn the_json_of_a_diff_is_its_serialisation_for_every_window() {
        let mut spans = spans::fedora();
        // Names the JSON must escape.
        spans.push(span("3\"4", "beta\\é", 30, Some(55)));
        let timeline = Timeline::new(spans);
        let times = [
            i64::MIN,
            0,
            10,
            20,
            30,
            40,
            45,
            50,
            55,
            60,
            70,
            80,
            1_000,
            i64::MAX,
        ];
        for from in times {
            for to in times.into_iter().filter(|to| *to >= from) {
                assert_eq!(
                    timeline.diff_json(from, to).unwrap(),
                    serde_json::to_string(&timeline.diff(from, to)).unwrap(),
                    "diff from {from} to {to}"
                );
            }
        }
        assert_eq!(
            Timeline::default().diff_json(0, 1).unwrap(),
            serde_json::to_string(&Timeline::default().diff(0, 1)).unwrap()
        );
    }

    #[test]
    fn an_empty_stream_or_window_has_no_transitions() {
        assert!(Timeline::default().diff(0, 100).transitions.is_empty());
        let timeline = fedora();
        let d = timeline.diff(1_000, 2_000);
        assert!(d.transitions.is_empty() && d.entered.is_empty() && d.left.is_empty());
    }
}
