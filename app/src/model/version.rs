//! How builds of a dist are ordered. "Fresher" always means later in the dist's version scheme,
//! never a string comparison.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionScheme {
    /// `<branch>-YYYY-MM-DD-<id>`, e.g. `master-2017-08-24-123456`; the branch prefix may be
    /// missing (`2017-08-24-123456`), as devices sometimes send it.
    Dated,
    /// Semantic versions (`1.4.0`, `v2.0.0-rc.1`).
    Semver,
    /// Plain non-negative integers.
    Integer,
    /// The order in which builds were registered.
    Registration,
}

impl VersionScheme {
    pub const ALL: [VersionScheme; 4] = [
        VersionScheme::Dated,
        VersionScheme::Semver,
        VersionScheme::Integer,
        VersionScheme::Registration,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VersionScheme::Dated => "dated",
            VersionScheme::Semver => "semver",
            VersionScheme::Integer => "integer",
            VersionScheme::Registration => "registration",
        }
    }

    /// A version older than every build of the scheme: what a device that never upgraded
    /// may send (the fleet simulator starts its devices there).
    pub fn floor(self) -> &'static str {
        match self {
            VersionScheme::Dated => "0000-01-01-0",
            VersionScheme::Semver => "0.0.0",
            VersionScheme::Integer => "0",
            VersionScheme::Registration => "unregistered",
        }
    }

    /// The sort key of a version string, or why it does not fit the scheme. `registered` is the
    /// build's registration sequence, used only by the `registration` scheme.
    pub fn key(self, version: &str, registered: Option<i64>) -> Result<VersionKey, String> {
        match self {
            VersionScheme::Dated => parse_dated(version),
            VersionScheme::Semver => {
                semver::Version::parse(version.strip_prefix('v').unwrap_or(version))
                    .map(VersionKey::Semver)
                    .map_err(|e| format!("'{version}' is not a semantic version: {e}"))
            }
            VersionScheme::Integer => version
                .parse::<u64>()
                .map(VersionKey::Integer)
                .map_err(|_| format!("'{version}' is not a non-negative integer")),
            VersionScheme::Registration => registered
                .map(VersionKey::Registration)
                .ok_or_else(|| format!("'{version}' is not a registered build")),
        }
    }
}

impl fmt::Display for VersionScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VersionScheme {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VersionScheme::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown version scheme '{s}'; expected dated, semver, integer or registration"
                )
            })
    }
}

/// A comparable version. Keys of different schemes never meet: one dist has one scheme.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum VersionKey {
    Dated { date: (u16, u8, u8), id: BuildId },
    Semver(semver::Version),
    Integer(u64),
    Registration(i64),
}

/// The id part of a dated version: numbers compare as numbers, anything else as text after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildId {
    Number(u64),
    Text(String),
}

impl Ord for BuildId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (BuildId::Number(a), BuildId::Number(b)) => a.cmp(b),
            (BuildId::Number(_), BuildId::Text(_)) => Ordering::Less,
            (BuildId::Text(_), BuildId::Number(_)) => Ordering::Greater,
            (BuildId::Text(a), BuildId::Text(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for BuildId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Reads `…-YYYY-MM-DD-ID` from the right, so branch names may contain dashes.
fn parse_dated(version: &str) -> Result<VersionKey, String> {
    if let Some(key) = numbered_release(version) {
        return Ok(key);
    }
    let invalid = || format!("'{version}' is not a dated version like master-2017-08-24-123456");
    let mut parts = version.rsplitn(5, '-');
    let id = parts.next().filter(|s| !s.is_empty()).ok_or_else(invalid)?;
    let day: u8 = parts.next().and_then(two_digits).ok_or_else(invalid)?;
    let month: u8 = parts.next().and_then(two_digits).ok_or_else(invalid)?;
    let year: u16 = parts
        .next()
        .filter(|s| s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok())
        .ok_or_else(invalid)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(invalid());
    }
    if let Some(prefix) = parts.next() {
        if prefix.is_empty() {
            return Err(invalid());
        }
    }
    let id = match id.parse::<u64>() {
        Ok(n) if id.bytes().all(|b| b.is_ascii_digit()) => BuildId::Number(n),
        _ => BuildId::Text(id.to_string()),
    };
    Ok(VersionKey::Dated {
        date: (year, month, day),
        id,
    })
}

/// Recalbox's releases before its dated builds were numbered (`4.1.0-0001`, the contents of
/// `/recalbox/recalbox.version` on those devices). They come before every dated version, and
/// among themselves in the order of their numbers (each part up to 65,535).
fn numbered_release(version: &str) -> Option<VersionKey> {
    let (release, build) = version.split_once('-')?;
    let parts: Vec<u16> = release
        .split('.')
        .map(|p| {
            p.parse()
                .ok()
                .filter(|_| p.bytes().all(|b| b.is_ascii_digit()))
        })
        .collect::<Option<_>>()?;
    let build: u16 = build
        .parse()
        .ok()
        .filter(|_| build.bytes().all(|b| b.is_ascii_digit()))?;
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let part = |i: usize| u64::from(parts.get(i).copied().unwrap_or(0));
    let number = (part(0) << 48) | (part(1) << 32) | (part(2) << 16) | u64::from(build);
    Some(VersionKey::Dated {
        date: (0, 0, 0),
        id: BuildId::Number(number),
    })
}

fn two_digits(s: &str) -> Option<u8> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use VersionScheme::*;

    fn key(scheme: VersionScheme, v: &str) -> VersionKey {
        scheme.key(v, None).unwrap()
    }

    #[test]
    fn the_floor_is_older_than_every_build() {
        assert!(key(Dated, Dated.floor()) < key(Dated, "master-1970-01-01-0"));
        assert!(key(Semver, Semver.floor()) < key(Semver, "0.0.1"));
        assert!(key(Integer, Integer.floor()) <= key(Integer, "0"));
        assert!(Registration.key(Registration.floor(), None).is_err());
    }

    #[test]
    fn dated_versions_order_by_date_then_id() {
        assert!(key(Dated, "master-2017-08-26-891011") > key(Dated, "master-2017-08-24-123456"));
        // Numbered releases came first.
        assert!(key(Dated, "4.1.0-0001") < key(Dated, Dated.floor()));
        assert!(key(Dated, "4.1.0-0001") < key(Dated, "4.1.0-0002"));
        assert!(key(Dated, "4.1.0-0002") < key(Dated, "4.10.0-0001"));
        assert!(key(Dated, "4.0-0009") < key(Dated, "4.1.0-0001"));
        assert!(key(Dated, "master-2017-08-24-123457") > key(Dated, "master-2017-08-24-123456"));
        assert!(key(Dated, "master-2018-01-01-1") > key(Dated, "master-2017-12-31-999999"));
    }

    #[test]
    fn a_dated_version_without_its_branch_prefix_is_the_same_version() {
        assert_eq!(
            key(Dated, "2017-08-24-123456"),
            key(Dated, "master-2017-08-24-123456")
        );
        assert!(key(Dated, "master-2017-08-26-891011") > key(Dated, "2017-08-24-123456"));
    }

    #[test]
    fn branch_names_with_dashes_are_allowed() {
        assert_eq!(
            key(Dated, "feature-new-ui-2017-08-24-42"),
            key(Dated, "2017-08-24-42")
        );
    }

    #[test]
    fn numeric_ids_compare_as_numbers_not_strings() {
        assert!(key(Dated, "master-2017-08-24-10") > key(Dated, "master-2017-08-24-9"));
    }

    #[test]
    fn malformed_dated_versions_are_refused() {
        for bad in [
            "",
            "master",
            "master-2017-8-24-1",
            "master-2017-13-01-1",
            "2017-08-24-",
            "-2017-08-24-1",
            "x-17-08-24-1",
        ] {
            assert!(Dated.key(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn semver_follows_semantic_precedence() {
        assert!(key(Semver, "1.10.0") > key(Semver, "1.9.0"));
        assert!(key(Semver, "2.0.0") > key(Semver, "2.0.0-rc.1"));
        assert_eq!(key(Semver, "v1.2.3"), key(Semver, "1.2.3"));
        assert!(Semver.key("1.2", None).is_err());
    }

    #[test]
    fn integers_compare_as_numbers() {
        assert!(key(Integer, "10") > key(Integer, "9"));
        assert!(Integer.key("-1", None).is_err());
        assert!(Integer.key("1.0", None).is_err());
    }

    #[test]
    fn registration_order_is_the_sequence_given() {
        assert!(Registration.key("b", Some(2)).unwrap() > Registration.key("a", Some(1)).unwrap());
        assert!(Registration.key("unknown", None).is_err());
    }

    #[test]
    fn schemes_parse_from_their_names() {
        for scheme in VersionScheme::ALL {
            assert_eq!(scheme.as_str().parse::<VersionScheme>(), Ok(scheme));
        }
        assert!("calver".parse::<VersionScheme>().is_err());
    }
}
