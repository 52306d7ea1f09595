//! Webhooks: URLs an admin registers to receive every outbox message, signed with a secret of
//! their own; each delivery (and each attempt's outcome) is logged, and any can be sent again.

use crate::backend::infra::audit::{self, Actor};
use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::Db;
use crate::backend::messaging::outbound::OutboundPolicy;
use crate::backend::messaging::outbox::OutboxMessage;
use crate::error::AppError;
use crate::model::dist::check_http_url;
pub use crate::model::webhook::{DeliveryView, NewWebhook, WebhookView};
use argon2::password_hash::rand_core::{OsRng, RngCore};

/// A delivery that is due, with what the worker needs to send it.
#[derive(Clone, Debug)]
pub struct DueDelivery {
    pub id: i64,
    pub attempts: i64,
    pub url: String,
    pub secret: String,
    pub message: OutboxMessage,
}

#[derive(sqlx::FromRow)]
struct HookRow {
    id: i64,
    url: String,
    active: i64,
    created_by: String,
    created_at: i64,
}

fn hook_from_row(row: HookRow) -> WebhookView {
    WebhookView {
        id: row.id,
        url: row.url,
        active: row.active != 0,
        created_by: row.created_by,
        created_at: row.created_at,
    }
}

#[tracing::instrument(skip_all)]
pub async fn create(
    db: &Db,
    policy: &OutboundPolicy,
    actor: &Actor,
    url: &str,
) -> Result<NewWebhook, AppError> {
    check_http_url("url", url)?;
    policy.check_url("url", url)?;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let secret = hex::encode(bytes);
    let mut tx = db.begin().await?;
    let row: HookRow = sqlx::query_as(
        "INSERT INTO webhooks (url, secret, active, created_by, created_at) VALUES ($1, $2, 1, $3, $4) \
         RETURNING id, url, active, created_by, created_at",
    )
    .bind(url)
    .bind(&secret)
    .bind(&actor.name)
    .bind(now_millis())
    .fetch_one(&mut *tx)
    .await
    ?;
    audit::record(&mut tx, actor, "webhook.create", url, "").await?;
    tx.commit().await?;
    Ok(NewWebhook {
        webhook: hook_from_row(row),
        secret,
    })
}

#[tracing::instrument(skip_all)]
pub async fn list(db: &Db) -> Result<Vec<WebhookView>, AppError> {
    let rows: Vec<HookRow> =
        sqlx::query_as("SELECT id, url, active, created_by, created_at FROM webhooks ORDER BY id")
            .fetch_all(&db.pool)
            .await?;
    Ok(rows.into_iter().map(hook_from_row).collect())
}

/// One webhook, by id.
#[tracing::instrument(skip_all)]
pub async fn get(db: &Db, id: i64) -> Result<WebhookView, AppError> {
    let row: Option<HookRow> = sqlx::query_as(
        "SELECT id, url, active, created_by, created_at FROM webhooks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    row.map(hook_from_row)
        .ok_or_else(|| AppError::not_found(format!("webhook {id}")))
}

#[tracing::instrument(skip_all)]
pub async fn set_active(
    db: &Db,
    actor: &Actor,
    id: i64,
    active: bool,
) -> Result<WebhookView, AppError> {
    let mut tx = db.begin().await?;
    let row: Option<HookRow> = sqlx::query_as(
        "UPDATE webhooks SET active = $1 WHERE id = $2 \
         RETURNING id, url, active, created_by, created_at",
    )
    .bind(i64::from(active))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let hook = row
        .map(hook_from_row)
        .ok_or_else(|| AppError::not_found(format!("webhook {id}")))?;
    let action = if active {
        "webhook.enable"
    } else {
        "webhook.disable"
    };
    audit::record(&mut tx, actor, action, &hook.url, "").await?;
    tx.commit().await?;
    Ok(hook)
}

/// The delivery log of one webhook, newest first.
#[tracing::instrument(skip_all)]
pub async fn deliveries(db: &Db, webhook_id: i64) -> Result<Vec<DeliveryView>, AppError> {
    let rows: Vec<DeliveryView> = sqlx::query_as(
        "SELECT w.id, w.webhook_id, w.outbox_id, o.topic, w.attempts, w.next_attempt_at, \
                w.delivered_at, w.last_status, w.last_error \
         FROM webhook_deliveries w JOIN outbox o ON o.id = w.outbox_id \
         WHERE w.webhook_id = $1 ORDER BY w.id DESC LIMIT 200",
    )
    .bind(webhook_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows)
}

/// Sends a delivery's message again, as a new delivery (the log keeps the old one).
#[tracing::instrument(skip_all)]
pub async fn redeliver(db: &Db, actor: &Actor, delivery_id: i64) -> Result<i64, AppError> {
    let mut tx = db.begin().await?;
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT webhook_id, outbox_id FROM webhook_deliveries WHERE id = $1")
            .bind(delivery_id)
            .fetch_optional(&mut *tx)
            .await?;
    let (webhook_id, outbox_id) =
        row.ok_or_else(|| AppError::not_found(format!("delivery {delivery_id}")))?;
    let now = now_millis();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO webhook_deliveries (webhook_id, outbox_id, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, 0, $3, $3) RETURNING id",
    )
    .bind(webhook_id)
    .bind(outbox_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    ?;
    audit::record(
        &mut tx,
        actor,
        "webhook.redeliver",
        &format!("webhook {webhook_id}"),
        &format!("message {outbox_id} (delivery {delivery_id} → {id})"),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Queues one delivery per active webhook for every message not yet dispatched. The claim
/// (`dispatched_at IS NULL` → now) makes sure only one replica queues a given message.
#[tracing::instrument(skip_all)]
pub async fn dispatch_pending(db: &Db) -> Result<usize, AppError> {
    let pending: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT 500")
            .fetch_all(&db.pool)
            .await?;
    let mut dispatched = 0;
    for (outbox_id,) in pending {
        let mut tx = db.begin().await?;
        let now = now_millis();
        let claimed = sqlx::query(
            "UPDATE outbox SET dispatched_at = $1 WHERE id = $2 AND dispatched_at IS NULL",
        )
        .bind(now)
        .bind(outbox_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            continue;
        }
        sqlx::query(
            "INSERT INTO webhook_deliveries (webhook_id, outbox_id, attempts, next_attempt_at, created_at) \
             SELECT id, $1, 0, $2, $2 FROM webhooks WHERE active = 1",
        )
        .bind(outbox_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        ?;
        tx.commit().await?;
        dispatched += 1;
    }
    Ok(dispatched)
}

/// Claims up to `limit` deliveries that are due and answers them. A claimed delivery is not due
/// again until `lease_until`, so no other round or replica sends it meanwhile; when its attempt
/// is recorded, its next time is set, and if this process dies first it comes due once the
/// lease has passed. On PostgreSQL a row another replica claimed first no longer matches the
/// `next_attempt_at <= now` condition when the update reaches it, so it is claimed once.
#[tracing::instrument(skip_all)]
pub async fn claim_due(
    db: &Db,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<DueDelivery>, AppError> {
    let claimed: Vec<(i64,)> = sqlx::query_as(
        "UPDATE webhook_deliveries SET next_attempt_at = $1 \
         WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL AND next_attempt_at <= $2 \
         AND id IN (SELECT id FROM webhook_deliveries \
                    WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL \
                    AND next_attempt_at <= $2 ORDER BY next_attempt_at, id LIMIT $3) \
         RETURNING id",
    )
    .bind(lease_until)
    .bind(now)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=claimed.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT w.id, w.attempts, h.url, h.secret, o.id AS outbox_id, o.topic, o.payload, o.created_at \
         FROM webhook_deliveries w JOIN webhooks h ON h.id = w.webhook_id \
         JOIN outbox o ON o.id = w.outbox_id WHERE w.id IN ({}) ORDER BY w.id",
        marks.join(", ")
    );
    let mut query = sqlx::query_as::<_, DueRow>(&sql);
    for (id,) in &claimed {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(&db.pool).await?;
    Ok(rows
        .into_iter()
        .map(|row| DueDelivery {
            id: row.id,
            attempts: row.attempts,
            url: row.url,
            secret: row.secret,
            message: OutboxMessage {
                id: row.outbox_id,
                topic: row.topic,
                payload: row.payload,
                created_at: row.created_at,
            },
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct DueRow {
    id: i64,
    attempts: i64,
    url: String,
    secret: String,
    outbox_id: i64,
    topic: String,
    payload: String,
    created_at: i64,
}

/// Records an attempt: delivered, or failed with the next try at `retry_at` (`None`: give up).
#[tracing::instrument(skip_all)]
pub async fn record_attempt(
    db: &Db,
    id: i64,
    status: Option<i64>,
    error: Option<&str>,
    delivered: bool,
    retry_at: Option<i64>,
) -> Result<(), AppError> {
    let now = now_millis();
    sqlx::query(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $1, last_error = $2, \
         delivered_at = $3, next_attempt_at = $4 WHERE id = $5",
    )
    .bind(status)
    .bind(error)
    .bind(delivered.then_some(now))
    .bind(if delivered { None } else { retry_at })
    .bind(id)
    .execute(&db.pool)
    .await
    ?;
    Ok(())
}
