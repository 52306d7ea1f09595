//! A connection that keeps failing (the database is down): waits that grow between attempts,
//! so a listener does not spin, and one log line when the outage starts and one when it ends.

use std::time::Duration;

const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub struct Outage {
    failures: u32,
}

impl Outage {
    /// An attempt failed: how long to wait before the next one, and whether this failure
    /// starts an outage (the one to log).
    pub fn failed(&mut self) -> (Duration, bool) {
        self.failures = self.failures.saturating_add(1);
        let doubled = FIRST_WAIT.saturating_mul(1 << (self.failures - 1).min(16));
        (doubled.min(LONGEST_WAIT), self.failures == 1)
    }

    /// An attempt worked: true when it ends an outage (the recovery to log).
    pub fn recovered(&mut self) -> bool {
        std::mem::take(&mut self.failures) > 0
    }

    pub fn ongoing(&self) -> bool {
        self.failures > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_thirty_seconds_and_only_the_first_failure_is_told() {
        let mut outage = Outage::default();
        let waits: Vec<(u64, bool)> = (0..7)
            .map(|_| outage.failed())
            .map(|(wait, first)| (wait.as_secs(), first))
            .collect();
        assert_eq!(
            waits,
            [
                (1, true),
                (2, false),
                (4, false),
                (8, false),
                (16, false),
                (30, false),
                (30, false)
            ]
        );
        assert!(outage.ongoing());
    }

    #[test]
    fn a_success_ends_the_outage_once_and_the_next_one_starts_afresh() {
        let mut outage = Outage::default();
        assert!(!outage.recovered(), "no outage to end");
        outage.failed();
        outage.failed();
        assert!(outage.recovered());
        assert!(!outage.recovered());
        assert_eq!(outage.failed(), (Duration::from_secs(1), true));
    }

    #[test]
    fn a_very_long_outage_keeps_waiting_the_longest_wait() {
        let mut outage = Outage::default();
        for _ in 0..100 {
            outage.failed();
        }
        assert_eq!(outage.failed().0, LONGEST_WAIT);
    }
}
