//! A dist's optional report key: when an admin sets one, a device report counts only if it
//! carries the key (`X-Sluice-Report-Key`). It is one key for the whole fleet, baked into the
//! devices' image; it stops anyone who does not have an image from reporting in a device's
//! name, not someone who has. Off by default: the shipped Recalbox client sends no key.
//! Only the key's SHA-256 is stored.

use sha2::{Digest, Sha256};

pub const MIN_LEN: usize = 16;
pub const MAX_LEN: usize = 256;
pub const HEADER: &str = "x-sluice-report-key";

/// What is stored of a key.
pub fn digest(key: &str) -> String {
    format!("{:x}", Sha256::digest(key.as_bytes()))
}

/// A key an admin may set: long enough not to be guessed, printable ASCII (it travels in a
/// header).
pub fn check_new(key: &str) -> Result<(), (&'static str, String)> {
    let printable = key.chars().all(|c| c.is_ascii_graphic());
    if !(MIN_LEN..=MAX_LEN).contains(&key.len()) || !printable {
        return Err((
            "key",
            format!("must be {MIN_LEN} to {MAX_LEN} printable ASCII characters without spaces"),
        ));
    }
    Ok(())
}

/// Whether a report may count: the dist requires no key, or the one given is its key. The
/// comparison is of digests, so its timing tells nothing about the key.
pub fn accepts(required_digest: Option<&str>, given: Option<&str>) -> bool {
    match required_digest {
        None => true,
        Some(required) => given.is_some_and(|key| digest(key) == required),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_key_every_report_counts() {
        assert!(accepts(None, None));
        assert!(accepts(None, Some("anything")));
    }

    #[test]
    fn with_a_key_only_reports_carrying_it_count() {
        let stored = digest("fleet-key-0123456789");
        assert!(accepts(Some(&stored), Some("fleet-key-0123456789")));
        assert!(!accepts(Some(&stored), Some("fleet-key-012345678")));
        assert!(!accepts(Some(&stored), None));
        assert_eq!(stored.len(), 64);
    }

    #[test]
    fn a_key_must_be_long_and_printable() {
        assert!(check_new("short").is_err());
        assert!(check_new("sixteen chars ok").is_err(), "no spaces");
        assert!(check_new("0123456789abcdef").is_ok());
        assert!(check_new(&"k".repeat(257)).is_err());
    }
}
