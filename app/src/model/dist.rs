//! Dists, their mirrors and builds as the console and the API show them, and the rules for
//! names that appear in URLs.

use super::catalog::BuildFile;
use super::version::VersionScheme;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistView {
    pub id: i64,
    pub name: String,
    pub version_scheme: VersionScheme,
    pub stable_channel: String,
    pub stable_branch: String,
    pub legacy_version_file: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDist {
    pub name: String,
    pub version_scheme: VersionScheme,
    #[serde(default = "default_stable_channel")]
    pub stable_channel: String,
    #[serde(default = "default_stable_branch")]
    pub stable_branch: String,
    #[serde(default)]
    pub legacy_version_file: Option<String>,
}

fn default_stable_channel() -> String {
    "stable".into()
}

fn default_stable_branch() -> String {
    "master".into()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirrorView {
    pub id: i64,
    pub dist: String,
    pub url_template: String,
    pub weight: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMirror {
    pub url_template: String,
    #[serde(default = "default_weight")]
    pub weight: u32,
}

fn default_weight() -> u32 {
    1
}

/// The files of one board in a build registration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardFiles {
    pub files: Vec<NewBuildFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBuildFile {
    pub name: String,
    pub size: i64,
    pub sha256: String,
}

/// `POST /api/v1/builds`, as CI sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewBuild {
    pub dist: String,
    pub branch: String,
    pub version: String,
    pub base_url: String,
    pub boards: BTreeMap<String, BoardFiles>,
    #[serde(default)]
    pub notes: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildView {
    pub id: i64,
    pub dist: String,
    pub branch: String,
    pub version: String,
    pub base_url: String,
    pub notes: String,
    pub boards: BTreeMap<String, Vec<BuildFile>>,
    pub registered_by: String,
    pub created_at: i64,
    pub withdrawn_at: Option<i64>,
    /// Channels this build was published to.
    pub channels: Vec<String>,
}

/// A build page: the build and how devices fare with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildDetail {
    pub build: BuildView,
    /// Download bases for the build, mirrors first.
    pub mirrors: Vec<String>,
    pub devices_on_it: i64,
    pub reports_ok: i64,
    pub reports_failed: i64,
}

pub const NAME_MAX: usize = 64;

/// Dist, branch, board and channel names: 1–64 of letters, digits, `.`, `_` and `-`; they
/// appear in URLs and paths.
pub fn check_slug(field: &'static str, value: &str) -> Result<(), (&'static str, String)> {
    if value.is_empty() {
        return Err((field, "must not be empty".into()));
    }
    if value.len() > NAME_MAX {
        return Err((field, format!("must be at most {NAME_MAX} characters")));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        || value.starts_with('.')
    {
        return Err((
            field,
            "may contain only letters, digits, '.', '_' and '-'".into(),
        ));
    }
    Ok(())
}

/// Versions: printable, no spaces or slashes, at most 128 characters.
pub fn check_version_text(value: &str) -> Result<(), (&'static str, String)> {
    if value.is_empty() || value.len() > 128 {
        return Err(("version", "must be 1 to 128 characters".into()));
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return Err((
            "version",
            "must not contain spaces, slashes or control characters".into(),
        ));
    }
    Ok(())
}

/// The most a withdrawal's reason may say (it goes to the audit log and the build's page).
pub const MAX_REASON_CHARS: usize = 1000;

/// A withdrawal's reason, whichever edge it comes through.
pub fn check_withdraw_reason(reason: &str) -> Result<(), (&'static str, String)> {
    if reason.trim().is_empty() {
        return Err(("reason", "say why the build is withdrawn".into()));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err((
            "reason",
            format!("must be at most {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(())
}

pub fn check_http_url(field: &'static str, value: &str) -> Result<(), (&'static str, String)> {
    let ok = (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() <= 512
        && value.len() > "https://".len()
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err((
            field,
            "must be an http:// or https:// URL without spaces".into(),
        ))
    }
}

impl NewBuild {
    /// Checks everything that does not need the database (the version against the dist's
    /// scheme is checked where the dist is known).
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        check_slug("dist", &self.dist)?;
        check_slug("branch", &self.branch)?;
        check_version_text(&self.version)?;
        check_http_url("base_url", &self.base_url)?;
        if self.notes.len() > 10_000 {
            return Err(("notes", "must be at most 10000 characters".into()));
        }
        if self.boards.is_empty() {
            return Err(("boards", "must list at least one board".into()));
        }
        for (board, files) in &self.boards {
            check_slug("boards", board)?;
            if files.files.is_empty() {
                return Err(("boards", format!("board '{board}' lists no files")));
            }
            for file in &files.files {
                let name_ok = !file.name.is_empty()
                    && file.name.len() <= 255
                    && !file.name.contains('/')
                    && !file.name.starts_with('.')
                    && !file
                        .name
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control());
                if !name_ok {
                    return Err((
                        "boards",
                        format!(
                            "board '{board}': file name '{}' is not a plain file name",
                            file.name
                        ),
                    ));
                }
                if file.size < 0 {
                    return Err((
                        "boards",
                        format!("board '{board}': file '{}' has a negative size", file.name),
                    ));
                }
                if file.sha256.len() != 64 || !file.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err((
                        "boards",
                        format!(
                            "board '{board}': file '{}' needs a sha256 of 64 hex digits",
                            file.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A digest of everything but the identity (dist, branch, version), so that re-posting the
    /// same build is recognised and posting different content under the same name is not.
    pub fn content_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(self.base_url.as_bytes());
        hasher.update([0]);
        hasher.update(self.notes.as_bytes());
        for (board, files) in &self.boards {
            hasher.update([1]);
            hasher.update(board.as_bytes());
            for file in &files.files {
                hasher.update([2]);
                hasher.update(file.name.as_bytes());
                hasher.update([0]);
                hasher.update(file.size.to_be_bytes());
                hasher.update(file.sha256.to_ascii_lowercase().as_bytes());
            }
        }
        format!("{:x}", hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NewBuild {
        serde_json::from_str(
            r#"{"dist":"recalbox","branch":"master","version":"master-2017-08-26-891011",
                "base_url":"https://master-2017-08-26-891011-archive.recalbox.com",
                "boards":{"rpi3":{"files":[
                  {"name":"root.tar.gz","size":157286400,"sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
                  {"name":"boot.tar.gz","size":1024,"sha256":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]}},
                "notes":"first"}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_withdrawal_reason_is_required_and_at_most_a_thousand_characters() {
        assert!(check_withdraw_reason(" ").is_err());
        assert!(check_withdraw_reason("bricks the rpi3").is_ok());
        assert!(
            check_withdraw_reason(&"é".repeat(1000)).is_ok(),
            "characters, not bytes"
        );
        assert_eq!(
            check_withdraw_reason(&"x".repeat(1001)).unwrap_err().0,
            "reason"
        );
    }

    #[test]
    fn the_issue_example_build_is_valid() {
        assert_eq!(sample().check(), Ok(()));
    }

    #[test]
    fn invalid_builds_name_the_field() {
        let mut b = sample();
        b.base_url = "ftp://x".into();
        assert_eq!(b.check().unwrap_err().0, "base_url");
        let mut b = sample();
        b.boards.clear();
        assert_eq!(b.check().unwrap_err().0, "boards");
        let mut b = sample();
        b.branch = "a b".into();
        assert_eq!(b.check().unwrap_err().0, "branch");
        let mut b = sample();
        b.boards.get_mut("rpi3").unwrap().files[0].sha256 = "xyz".into();
        assert!(b.check().unwrap_err().1.contains("sha256"));
        let mut b = sample();
        b.boards.get_mut("rpi3").unwrap().files[0].name = "../etc/passwd".into();
        assert_eq!(b.check().unwrap_err().0, "boards");
    }

    #[test]
    fn the_same_content_has_the_same_digest_and_any_change_another() {
        assert_eq!(sample().content_digest(), sample().content_digest());
        let mut changed = sample();
        changed.boards.get_mut("rpi3").unwrap().files[1].size = 1025;
        assert_ne!(changed.content_digest(), sample().content_digest());
        let mut renamed = sample();
        renamed.version = "other".into();
        assert_eq!(renamed.content_digest(), sample().content_digest());
    }

    #[test]
    fn slugs_refuse_paths_and_spaces() {
        assert!(check_slug("dist", "recalbox").is_ok());
        assert!(check_slug("dist", "../x").is_err());
        assert!(check_slug("dist", "a/b").is_err());
        assert!(check_slug("dist", "").is_err());
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct DeviceView {
    pub dist: String,
    pub uuid: String,
    pub board: String,
    pub branch: String,
    #[cfg_attr(feature = "ssr", sqlx(rename = "user_name"))]
    pub user: String,
    pub current_version: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub last_offer_version: Option<String>,
    pub last_offer_at: Option<i64>,
    pub last_report_status: Option<String>,
    pub last_report_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ReportView {
    pub id: i64,
    pub version: String,
    pub status: String,
    pub error: Option<String>,
    pub update_time_seconds: Option<i64>,
    pub received_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHistory {
    pub device: DeviceView,
    pub reports: Vec<ReportView>,
}

/// How many devices of a board run a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct VersionCount {
    pub board: String,
    pub version: String,
    pub devices: i64,
}
