//! The release stream (seed 004): append-only events "release R of dist D entered / left state
//! S at time T", and the pure rules that turn them into views. The database keeps one *span*
//! per stay of a release in a state (`release_state_spans`), rebuilt from the events of that
//! (release, state) pair on every write; every view at a time is the spans open at that time.

use super::time_fmt::rfc3339_millis;
use serde::{Deserialize, Serialize};

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

mod order;
mod rules;
mod views;
pub use order::*;
pub use rules::*;
pub use views::*;

#[cfg(test)]
pub(crate) mod tests;
