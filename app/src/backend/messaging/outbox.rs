//! The outbox: every message Sluice emits is a row written in the same transaction as the
//! change it tells about, so the store and the listeners never disagree. After the commit, the
//! delivery worker (`server::jobs::outbox_worker`) fans it out to the live stream and queues a
//! delivery per webhook; a crash in between only delays the message.

use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::Db;
use crate::error::AppError;
use crate::model::release_stream::Action;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// One emitted message, as the live stream and webhooks carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: i64,
    pub topic: String,
    /// The JSON body, as stored.
    pub payload: String,
    pub created_at: i64,
}

/// `sluice.release.state.entered` / `.left`, after fedora-messaging's dotted topics.
pub fn release_topic(action: Action) -> String {
    format!("sluice.release.state.{}", action.as_str())
}

/// The topics of the release stream: the only ones readers who are not signed in may follow.
pub const RELEASE_TOPICS: &str = "sluice.release.";

/// `sluice.build.registered`, `.published` or `.withdrawn`.
pub fn build_topic(what: &str) -> String {
    format!("sluice.build.{what}")
}

/// `sluice.rollout.<action>`, one per line of a rollout's history (`create`, `advance`,
/// `pause`, `resume`, `halt`, `complete`, `rollback`, `supersede`, …).
pub fn rollout_topic(action: &str) -> String {
    format!("sluice.rollout.{action}")
}

/// The advisory lock that puts outbox ids in commit order on PostgreSQL (any fixed number).
const COMMIT_ORDER_LOCK: i64 = 0x5_1C_E0;

/// Queues a message in the caller's transaction. Call it last, just before the commit: on
/// PostgreSQL it holds the outbox's commit-order lock until then.
#[tracing::instrument(skip_all)]
pub async fn enqueue(
    conn: &mut AnyConnection,
    topic: &str,
    payload: &impl Serialize,
) -> Result<i64, AppError> {
    let payload = serde_json::to_string(payload).map_err(|e| {
        tracing::error!(error = %e, "cannot serialise an outbox message");
        AppError::Internal
    })?;
    // Readers go `id > cursor`. PostgreSQL hands out sequence values when asked, not at
    // commit, so without this a row with a smaller id could commit after a reader has passed
    // it, and never be delivered. Holding this lock from taking the id to the commit makes ids
    // follow commit order. SQLite runs one write transaction at a time already.
    if conn.backend_name() == <sqlx::Postgres as sqlx::Database>::NAME {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(COMMIT_ORDER_LOCK)
            .execute(&mut *conn)
            .await?;
    }
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO outbox (topic, payload, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(topic)
    .bind(payload)
    .bind(now_millis())
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Messages after `since`, oldest first.
#[tracing::instrument(skip_all)]
pub async fn since(db: &Db, since: i64, limit: i64) -> Result<Vec<OutboxMessage>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, topic, payload, created_at FROM outbox WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn last_id(db: &Db) -> Result<i64, sqlx::Error> {
    let (id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM outbox")
        .fetch_one(&db.pool)
        .await?;
    Ok(id.unwrap_or(0))
}

/// This replica's side of the outbox: a wake-up for the worker after a commit, and the live
/// feed the server-sent event streams subscribe to.
#[derive(Clone, Debug)]
pub struct Outbox {
    /// Counts commits; every worker watching it wakes (the live feed and the webhook sender
    /// each have their own loop, so a slow webhook never holds up the live feed).
    wake: Arc<watch::Sender<u64>>,
    live: broadcast::Sender<OutboxMessage>,
    /// Set at shutdown: every live stream ends.
    closing: Arc<watch::Sender<bool>>,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            wake: Arc::new(watch::channel(0).0),
            live: broadcast::channel(1024).0,
            closing: Arc::new(watch::channel(false).0),
        }
    }
}

impl Outbox {
    /// Call after committing a change that enqueued a message.
    pub fn wake(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A worker's wake-up call: `changed()` resolves after the next commit.
    pub fn wake_ups(&self) -> watch::Receiver<u64> {
        self.wake.subscribe()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<OutboxMessage> {
        self.live.subscribe()
    }

    /// Ends every live stream (shutdown).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once `close` is called.
    pub async fn closed(&self) {
        let _ = self.closing.subscribe().wait_for(|closing| *closing).await;
    }

    pub fn publish_live(&self, message: OutboxMessage) {
        // No subscriber is not an error: nobody is watching.
        let _ = self.live.send(message);
    }
}

/// Where the consumer `name` stands. A consumer seen for the first time starts at the newest
/// message: switching AMQP on does not replay the past.
#[tracing::instrument(skip_all)]
pub async fn cursor(db: &Db, name: &str) -> Result<i64, sqlx::Error> {
    let newest = last_id(db).await?;
    sqlx::query(
        "INSERT INTO outbox_cursors (name, last_id) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(newest)
    .execute(&db.pool)
    .await?;
    let (id,): (i64,) = sqlx::query_as("SELECT last_id FROM outbox_cursors WHERE name = $1")
        .bind(name)
        .fetch_one(&db.pool)
        .await?;
    Ok(id)
}

/// Moves a consumer forward (never back: another replica may be ahead).
#[tracing::instrument(skip_all)]
pub async fn advance_cursor(db: &Db, name: &str, to: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE outbox_cursors SET last_id = $1 WHERE name = $2 AND last_id < $1")
        .bind(to)
        .bind(name)
        .execute(&db.pool)
        .await?;
    Ok(())
}
