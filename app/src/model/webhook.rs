//! What the console and the API show of webhooks and their delivery log.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub active: bool,
    pub created_by: String,
    pub created_at: i64,
}

/// Answered once, at creation: the secret is not shown again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWebhook {
    pub webhook: WebhookView,
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct DeliveryView {
    pub id: i64,
    pub webhook_id: i64,
    pub outbox_id: i64,
    pub topic: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

impl DeliveryView {
    /// "delivered", "retrying", "waiting" or "failed": what an admin needs to know at a glance.
    pub fn outcome(&self) -> &'static str {
        match (self.delivered_at, self.next_attempt_at, self.attempts) {
            (Some(_), _, _) => "delivered",
            (None, Some(_), 0) => "waiting",
            (None, Some(_), _) => "retrying",
            (None, None, _) => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(attempts: i64, next: Option<i64>, delivered: Option<i64>) -> DeliveryView {
        DeliveryView {
            id: 1,
            webhook_id: 1,
            outbox_id: 1,
            topic: "t".into(),
            attempts,
            next_attempt_at: next,
            delivered_at: delivered,
            last_status: None,
            last_error: None,
        }
    }

    #[test]
    fn a_delivery_reads_as_its_outcome() {
        assert_eq!(delivery(1, None, Some(5)).outcome(), "delivered");
        assert_eq!(delivery(0, Some(5), None).outcome(), "waiting");
        assert_eq!(delivery(3, Some(9), None).outcome(), "retrying");
        assert_eq!(delivery(12, None, None).outcome(), "failed");
    }
}
