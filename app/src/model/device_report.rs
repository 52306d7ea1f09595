//! The report a device sends after an upgrade (`POST /v1/log`), read exactly as real devices
//! write it: the seed's devices send `"uuid": 012456789`, a number with a leading zero that
//! strict JSON refuses. Such numbers are read as the digits written.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ReportStatus {
    Started,
    Downloaded,
    Rebooting,
    Ok,
    Failed,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 5] = [
        ReportStatus::Started,
        ReportStatus::Downloaded,
        ReportStatus::Rebooting,
        ReportStatus::Ok,
        ReportStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Started => "STARTED",
            ReportStatus::Downloaded => "DOWNLOADED",
            ReportStatus::Rebooting => "REBOOTING",
            ReportStatus::Ok => "OK",
            ReportStatus::Failed => "FAILED",
        }
    }

    /// `OK` and `FAILED` end an upgrade; the others are progress.
    pub fn is_final(self) -> bool {
        matches!(self, ReportStatus::Ok | ReportStatus::Failed)
    }
}

impl fmt::Display for ReportStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReportStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReportStatus::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown status '{s}'; expected STARTED, DOWNLOADED, REBOOTING, OK or FAILED"
                )
            })
    }
}

/// A device report, validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceReport {
    pub board: String,
    pub uuid: String,
    pub user: String,
    pub boardversion: String,
    pub branch: String,
    pub update_time_seconds: Option<i64>,
    pub status: ReportStatus,
    pub error: Option<String>,
    /// Optional: which dist the device runs, when the server serves several.
    pub dist: Option<String>,
}

/// The wire form, lenient where devices are: numbers or strings for ids and times.
#[derive(Deserialize)]
struct WireReport {
    board: Option<serde_json::Value>,
    uuid: Option<serde_json::Value>,
    user: Option<serde_json::Value>,
    boardversion: Option<serde_json::Value>,
    branch: Option<serde_json::Value>,
    #[serde(rename = "updateTimeInSeconds")]
    update_time_in_seconds: Option<serde_json::Value>,
    status: Option<serde_json::Value>,
    error: Option<serde_json::Value>,
    dist: Option<serde_json::Value>,
}

/// Why a report was refused: the field and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportError {
    pub field: &'static str,
    pub message: String,
}

impl ReportError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        ReportError {
            field,
            message: message.into(),
        }
    }
}

pub const FIELD_MAX: usize = 256;
pub const ERROR_MAX: usize = 4096;

impl DeviceReport {
    pub fn parse(body: &[u8]) -> Result<DeviceReport, ReportError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| ReportError::new("body", "must be UTF-8 JSON"))?;
        let text = quote_leading_zero_numbers(text);
        let wire: WireReport = serde_json::from_str(&text)
            .map_err(|e| ReportError::new("body", format!("not a JSON object: {e}")))?;
        let required = |field: &'static str, value: Option<serde_json::Value>| {
            scalar(field, value, FIELD_MAX)?.ok_or_else(|| ReportError::new(field, "is required"))
        };
        let status = required("status", wire.status)?;
        let status = status
            .parse::<ReportStatus>()
            .map_err(|message| ReportError::new("status", message))?;
        let update_time_seconds =
            match scalar("updateTimeInSeconds", wire.update_time_in_seconds, 32)? {
                None => None,
                Some(text) => Some(text.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(
                    || {
                        ReportError::new(
                            "updateTimeInSeconds",
                            "must be a non-negative whole number",
                        )
                    },
                )?),
            };
        Ok(DeviceReport {
            board: required("board", wire.board)?,
            uuid: required("uuid", wire.uuid)?,
            user: scalar("user", wire.user, FIELD_MAX)?.unwrap_or_default(),
            boardversion: required("boardversion", wire.boardversion)?,
            // Recalbox's shipped client may leave it out: the dist's stable channel then.
            branch: scalar("branch", wire.branch, FIELD_MAX)?.unwrap_or_default(),
            update_time_seconds,
            status,
            error: scalar("error", wire.error, ERROR_MAX)?,
            dist: scalar("dist", wire.dist, FIELD_MAX)?,
        })
    }
}

/// A string or number field as text; objects, arrays and over-long values are refused.
fn scalar(
    field: &'static str,
    value: Option<serde_json::Value>,
    max: usize,
) -> Result<Option<String>, ReportError> {
    let text = match value {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(serde_json::Value::Bool(b)) => b.to_string(),
        Some(_) => return Err(ReportError::new(field, "must be a string or a number")),
    };
    if text.chars().count() > max {
        return Err(ReportError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ReportError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(Some(text))
}

/// Turns bare numbers written with a leading zero (`012456789`) into strings (`"012456789"`),
/// leaving everything inside strings and every valid number as it is.
pub fn quote_leading_zero_numbers(json: &str) -> Cow<'_, str> {
    let bytes = json.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        let starts_number = b == b'0' && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit();
        let after_value_start =
            i == 0 || !matches!(bytes[i - 1], b'0'..=b'9' | b'.' | b'e' | b'E' | b'-' | b'+');
        if starts_number && after_value_start {
            let end = bytes[i..]
                .iter()
                .position(|c| !c.is_ascii_digit())
                .map_or(bytes.len(), |n| i + n);
            let buffer = out.get_or_insert_with(|| String::with_capacity(json.len() + 2));
            buffer.push_str(&json[copied..i]);
            buffer.push('"');
            buffer.push_str(&json[i..end]);
            buffer.push('"');
            copied = end;
            i = end;
            continue;
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(json),
        Some(mut buffer) => {
            buffer.push_str(&json[copied..]);
            Cow::Owned(buffer)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_REPORT: &str = r#"{ "board": "rpi3", "uuid": 012456789, "user": "digitallumberjack@recalbox.com", "boardversion": "master-2017-08-26-891011", "branch": "stable", "updateTimeInSeconds": 286, "status": "OK" }"#;

    #[test]
    fn the_seed_report_is_read_byte_for_byte_keeping_the_uuid_digits() {
        let report = DeviceReport::parse(SEED_REPORT.as_bytes()).unwrap();
        assert_eq!(report.uuid, "012456789");
        assert_eq!(report.board, "rpi3");
        assert_eq!(report.user, "digitallumberjack@recalbox.com");
        assert_eq!(report.boardversion, "master-2017-08-26-891011");
        assert_eq!(report.branch, "stable");
        assert_eq!(report.update_time_seconds, Some(286));
        assert_eq!(report.status, ReportStatus::Ok);
    }

    #[test]
    fn status_is_case_insensitive_and_error_is_optional() {
        let report = DeviceReport::parse(
            br#"{"board":"rpi3","uuid":"a","boardversion":"1","branch":"stable","status":"failed","error":"disk full"}"#,
        )
        .unwrap();
        assert_eq!(report.status, ReportStatus::Failed);
        assert_eq!(report.error.as_deref(), Some("disk full"));
        assert!(report.status.is_final());
    }

    #[test]
    fn a_missing_or_unknown_field_value_is_named() {
        let missing = DeviceReport::parse(
            br#"{"board":"rpi3","boardversion":"1","branch":"stable","status":"OK"}"#,
        );
        assert_eq!(missing.unwrap_err().field, "uuid");
        let unknown = DeviceReport::parse(
            br#"{"board":"rpi3","uuid":1,"boardversion":"1","branch":"stable","status":"DONE"}"#,
        );
        assert_eq!(unknown.unwrap_err().field, "status");
        let negative = DeviceReport::parse(
            br#"{"board":"rpi3","uuid":1,"boardversion":"1","branch":"stable","status":"OK","updateTimeInSeconds":-3}"#,
        );
        assert_eq!(negative.unwrap_err().field, "updateTimeInSeconds");
    }

    #[test]
    fn malformed_json_is_refused_as_the_body() {
        assert_eq!(DeviceReport::parse(b"{not json").unwrap_err().field, "body");
        assert_eq!(DeviceReport::parse(b"[1,2]").unwrap_err().field, "body");
    }

    #[test]
    fn only_bare_leading_zero_numbers_are_quoted() {
        assert_eq!(
            quote_leading_zero_numbers(r#"{"a": 012}"#),
            r#"{"a": "012"}"#
        );
        assert_eq!(
            quote_leading_zero_numbers(r#"{"a": "012", "b": 0.5, "c": 0}"#),
            r#"{"a": "012", "b": 0.5, "c": 0}"#
        );
        assert_eq!(
            quote_leading_zero_numbers(r#"{"a": "x\" 012"}"#),
            r#"{"a": "x\" 012"}"#
        );
        assert_eq!(
            quote_leading_zero_numbers(r#"[1.012, 1e012, 007]"#),
            r#"[1.012, 1e012, "007"]"#
        );
        assert!(matches!(
            quote_leading_zero_numbers(r#"{"a": 12}"#),
            Cow::Borrowed(_)
        ));
    }
}
