/// Now, as Unix milliseconds (how every timestamp is stored).
pub fn now_millis() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}
