//! Timestamps are stored as Unix milliseconds; this is how people read them.

use time::{format_description::well_known::Rfc3339, OffsetDateTime};

/// `2026-11-23 14:05:09 UTC`, or the raw number if it is out of range.
pub fn format_millis(millis: i64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => millis.to_string(),
    }
}

/// RFC 3339 for machine-readable output.
pub fn rfc3339_millis(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(millis as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| millis.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_read_as_utc_date_and_time() {
        assert_eq!(format_millis(1_503_532_800_000), "2017-08-24 00:00:00 UTC");
        assert_eq!(rfc3339_millis(1_503_532_800_000), "2017-08-24T00:00:00Z");
    }
}
