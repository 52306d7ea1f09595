//! Delivers the outbox: after every commit (woken) and once a second (other replicas' writes,
//! retries), two loops of their own
//! 1. pass new messages to this replica's live stream (server-sent events);
//! 2. queue one webhook delivery per active webhook for each message no replica has queued yet,
//!    and send the deliveries that are due, each on its own with its own timeout, signed,
//!    retrying failures with exponential back-off.
//!
//! Everything it needs is in the database, so a restart picks up where it stopped.

use crate::jobs::outbound_resolver::PolicyResolver;
use app::backend::infra::clock::now_millis;
use app::backend::messaging::outbox;
use app::backend::messaging::webhooks::{self, DueDelivery};
use app::backend::AppState;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;

const TICK: Duration = Duration::from_secs(1);
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// A claimed delivery is not claimed again for this long (longer than an attempt can take).
const LEASE: Duration = Duration::from_secs(60);
/// Deliveries in flight at once, over all webhooks.
const SENDS_AT_ONCE: usize = 16;
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

/// The live feed's loop, starting after the outbox's last message (`jobs::Jobs` runs it).
pub async fn live_feed(state: AppState) -> Result<impl Future<Output = ()>, app::AppError> {
    let live_after = outbox::last_id(&state.db).await?;
    Ok(live_loop(state, live_after))
}

/// Waits for the next commit, or a tick at most.
async fn next_round(wake_ups: &mut watch::Receiver<u64>) {
    let _ = tokio::time::timeout(TICK, wake_ups.changed()).await;
}

async fn live_loop(state: AppState, mut live_after: i64) {
    let mut wake_ups = state.outbox.wake_ups();
    loop {
        if let Err(e) = publish_live(&state, &mut live_after).await {
            tracing::warn!(error = %e, "live feed round failed; retrying");
        }
        next_round(&mut wake_ups).await;
    }
}

async fn publish_live(state: &AppState, live_after: &mut i64) -> Result<(), app::AppError> {
    loop {
        let fresh = outbox::since(&state.db, *live_after, 500).await?;
        let Some(last) = fresh.last() else {
            return Ok(());
        };
        *live_after = last.id;
        for message in fresh {
            state.outbox.publish_live(message);
        }
    }
}

/// Sends webhook deliveries. A webhook that never answers holds up neither the live feed nor
/// the other webhooks: each send runs on its own, at most `SENDS_AT_ONCE` together.
#[derive(Clone)]
pub struct WebhookSender {
    state: AppState,
    client: reqwest::Client,
    sending: Arc<Semaphore>,
}

impl WebhookSender {
    pub fn new(state: AppState) -> Result<WebhookSender, app::AppError> {
        let client = reqwest::Client::builder()
            .timeout(SEND_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PolicyResolver(state.outbound.clone())))
            .build()
            .map_err(|e| {
                tracing::error!(error = %e, "cannot build the webhook client");
                app::AppError::Internal
            })?;
        Ok(WebhookSender {
            state,
            client,
            sending: Arc::new(Semaphore::new(SENDS_AT_ONCE)),
        })
    }

    /// A round after every commit, and once a second (other replicas' writes, retries).
    pub async fn run(self) {
        let mut wake_ups = self.state.outbox.wake_ups();
        loop {
            if let Err(e) = self.round(now_millis()).await {
                tracing::warn!(error = %e, "webhook round failed; retrying");
            }
            next_round(&mut wake_ups).await;
        }
    }

    /// One round of what is due at `now`, returning once each of its sends is recorded: how
    /// many there were. Tests deliver with it instead of waiting for the background loop.
    pub async fn deliver_due(&self, now: i64) -> Result<usize, app::AppError> {
        let sends = self.round(now).await?;
        let count = sends.len();
        for send in sends {
            let _ = send.await;
        }
        Ok(count)
    }

    /// Queues what is new, then claims as many due deliveries as there are free senders and
    /// starts each send on its own.
    async fn round(&self, now: i64) -> Result<Vec<JoinHandle<()>>, app::AppError> {
        webhooks::dispatch_pending(&self.state.db).await?;
        // What was just queued is due now: never claim with a clock older than the queueing.
        let now = now.max(now_millis());
        let free = self.sending.available_permits();
        if free == 0 {
            return Ok(Vec::new());
        }
        let lease_until = now + LEASE.as_millis() as i64;
        let mut sends = Vec::new();
        for delivery in webhooks::claim_due(&self.state.db, now, lease_until, free as i64).await? {
            let Ok(permit) = self.sending.clone().try_acquire_owned() else {
                break;
            };
            let (state, client) = (self.state.clone(), self.client.clone());
            sends.push(tokio::spawn(async move {
                if let Err(e) = send(&state, &client, delivery).await {
                    tracing::warn!(error = %e, "cannot record a webhook attempt");
                }
                drop(permit);
            }));
        }
        Ok(sends)
    }
}

async fn send(
    state: &AppState,
    client: &reqwest::Client,
    delivery: DueDelivery,
) -> Result<(), app::AppError> {
    let body = delivery.message.payload.clone().into_bytes();
    // A URL naming an address is not resolved, so it is checked here (the policy may have
    // changed since the webhook was created).
    if state.outbound.check_url("url", &delivery.url).is_err() {
        let retry_at = None;
        return webhooks::record_attempt(
            &state.db,
            delivery.id,
            None,
            Some("refused: not a public address"),
            false,
            retry_at,
        )
        .await;
    }
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
            // One message for every way of not getting an answer: telling a closed port from a
            // filtered one or a refused name would make webhooks a way to map the network.
            tracing::info!(delivery = delivery.id, error = %e, "webhook delivery failed");
            let error = "no answer";
            webhooks::record_attempt(&state.db, delivery.id, None, Some(error), false, retry_at)
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
