//! Delivers the outbox: after every commit (woken) and once a second (other replicas' writes,
//! retries), it
//! 1. passes new messages to this replica's live stream (server-sent events);
//! 2. queues one webhook delivery per active webhook for each message no replica has queued yet;
//! 3. sends the deliveries that are due, signed, retrying failures with exponential back-off.
//!
//! Everything it needs is in the database, so a restart picks up where it stopped.

use app::backend::clock::now_millis;
use app::backend::outbox;
use app::backend::webhooks::{self, DueDelivery};
use app::backend::AppState;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

const TICK: Duration = Duration::from_secs(1);
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// After this many failed attempts a delivery stays in the log, failed, until redelivered.
const MAX_ATTEMPTS: i64 = 12;
pub const SIGNATURE_HEADER: &str = "x-sluice-signature-256";

/// `sha256=<hex HMAC-SHA256 of the body under the webhook's secret>`, as GitHub signs.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// 1 s, 2 s, 4 s… capped at an hour, after `attempts` failures.
pub fn back_off(attempts: i64) -> Duration {
    Duration::from_secs(1u64 << attempts.clamp(0, 12)).min(Duration::from_secs(3600))
}

pub async fn spawn(state: AppState) -> Result<tokio::task::JoinHandle<()>, app::AppError> {
    let mut live_after = outbox::last_id(&state.db).await?;
    let client = reqwest::Client::builder()
        .timeout(SEND_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            tracing::error!(error = %e, "cannot build the webhook client");
            app::AppError::Internal
        })?;
    Ok(tokio::spawn(async move {
        loop {
            if let Err(e) = run_once(&state, &client, &mut live_after).await {
                tracing::warn!(error = %e, "outbox delivery round failed; retrying");
            }
            tokio::select! {
                _ = state.outbox.woken() => {}
                _ = tokio::time::sleep(TICK) => {}
            }
        }
    }))
}

async fn run_once(
    state: &AppState,
    client: &reqwest::Client,
    live_after: &mut i64,
) -> Result<(), app::AppError> {
    loop {
        let fresh = outbox::since(&state.db, *live_after, 500).await?;
        let Some(last) = fresh.last() else { break };
        *live_after = last.id;
        for message in fresh {
            state.outbox.publish_live(message);
        }
    }
    webhooks::dispatch_pending(&state.db).await?;
    for delivery in webhooks::due(&state.db, now_millis(), 100).await? {
        send(state, client, delivery).await?;
    }
    Ok(())
}

async fn send(
    state: &AppState,
    client: &reqwest::Client,
    delivery: DueDelivery,
) -> Result<(), app::AppError> {
    let body = delivery.message.payload.clone().into_bytes();
    let result = client
        .post(&delivery.url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature(&delivery.secret, &body))
        .header("x-sluice-topic", &delivery.message.topic)
        .header("x-sluice-message-id", delivery.message.id.to_string())
        .header("x-sluice-delivery", delivery.id.to_string())
        .body(body)
        .send()
        .await;
    let attempts = delivery.attempts + 1;
    let retry_at =
        (attempts < MAX_ATTEMPTS).then(|| now_millis() + back_off(attempts - 1).as_millis() as i64);
    match result {
        Ok(response) if response.status().is_success() => {
            let status = i64::from(response.status().as_u16());
            webhooks::record_attempt(&state.db, delivery.id, Some(status), None, true, None).await
        }
        Ok(response) => {
            let status = i64::from(response.status().as_u16());
            tracing::info!(delivery = delivery.id, status, "webhook refused a delivery");
            webhooks::record_attempt(&state.db, delivery.id, Some(status), None, false, retry_at)
                .await
        }
        Err(e) => {
            tracing::info!(delivery = delivery.id, error = %e, "webhook delivery failed");
            let error = if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                "cannot connect".to_string()
            } else {
                "request failed".to_string()
            };
            webhooks::record_attempt(&state.db, delivery.id, None, Some(&error), false, retry_at)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hex_hmac_sha256_prefixed() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn back_off_doubles_and_is_capped() {
        assert_eq!(back_off(0), Duration::from_secs(1));
        assert_eq!(back_off(3), Duration::from_secs(8));
        assert_eq!(back_off(40), Duration::from_secs(3600));
    }
}
