//! Rules on the release stream: "when a release of dist D enters (or leaves) state S, do A".
//! They fire inside the event's transaction, so an action is queued exactly when its event is
//! stored; the action itself is carried out after the commit by the outbox worker.

use crate::backend::infra::audit::{self, Actor};
use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::{stored, Db, UNKNOWN};
use crate::backend::registry::stream_dists;
use crate::error::AppError;
use crate::model::release_stream::{
    check_label, rule_fires, Action, NewReleaseRule, ReleaseEvent, ReleaseRule, RuleAction,
};
use sqlx::AnyConnection;

/// The outbox topic of a fired rule's message.
pub const RULE_TOPIC: &str = "sluice.rule.fired";

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: i64,
    dist: String,
    state: String,
    on_action: String,
    webhook_id: Option<i64>,
    active: i64,
    created_by: String,
    created_at: i64,
}
const RULE_COLUMNS: &str = "r.id, d.name AS dist, r.state, r.on_action, r.webhook_id, \
                            r.active, r.created_by, r.created_at";

fn rule_from_row(
    RuleRow {
        id,
        dist,
        state,
        on_action: on,
        webhook_id,
        active,
        created_by,
        created_at,
    }: RuleRow,
) -> Result<ReleaseRule, AppError> {
    Ok(ReleaseRule {
        id,
        dist,
        state,
        on: stored(
            "release_rules",
            "on_action",
            &on,
            Action::parse(&on).ok_or(UNKNOWN),
        )?,
        action: RuleAction::Webhook {
            webhook_id: stored(
                "release_rules",
                "webhook_id",
                "NULL",
                webhook_id.ok_or(UNKNOWN),
            )?,
        },
        active: active != 0,
        created_by,
        created_at,
    })
}

#[tracing::instrument(skip_all)]
pub async fn create(db: &Db, actor: &Actor, new: &NewReleaseRule) -> Result<ReleaseRule, AppError> {
    check_label("state", &new.state)?;
    let dist = stream_dists::find(db, &new.dist).await?;
    let RuleAction::Webhook { webhook_id } = new.action;
    let mut tx = db.begin().await?;
    let known: Option<(i64,)> = sqlx::query_as("SELECT id FROM webhooks WHERE id = $1")
        .bind(webhook_id)
        .fetch_optional(&mut *tx)
        .await?;
    if known.is_none() {
        return Err(AppError::validation(
            "action",
            format!("no webhook {webhook_id}"),
        ));
    }
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO release_rules (dist_id, state, on_action, action_kind, webhook_id, active, created_by, created_at) \
         VALUES ($1, $2, $3, 'webhook', $4, 1, $5, $6) RETURNING id",
    )
    .bind(dist.id)
    .bind(&new.state)
    .bind(new.on.as_str())
    .bind(webhook_id)
    .bind(&actor.name)
    .bind(now_millis())
    .fetch_one(&mut *tx)
    .await
    ?;
    let detail = format!(
        "when {} {}, webhook {webhook_id}",
        new.on.as_str(),
        new.state
    );
    audit::record(&mut tx, actor, "rule.create", &new.dist, &detail).await?;
    tx.commit().await?;
    let rules = list(db, Some(&new.dist)).await?;
    rules
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(AppError::Internal)
}

#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, dist: Option<&str>) -> Result<Vec<ReleaseRule>, AppError> {
    let rows: Vec<RuleRow> = sqlx::query_as(&format!(
        "SELECT {RULE_COLUMNS} FROM release_rules r JOIN dists d ON d.id = r.dist_id \
         WHERE ($1 IS NULL OR d.name = $1) ORDER BY r.id"
    ))
    .bind(dist)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(rule_from_row).collect()
}

#[tracing::instrument(skip_all)]
pub async fn remove(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("UPDATE release_rules SET active = 0 WHERE id = $1 AND active = 1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found(format!("active rule {id}")));
    }
    audit::record(&mut tx, actor, "rule.remove", &format!("rule {id}"), "").await?;
    tx.commit().await?;
    Ok(())
}

/// Queues the actions of every active rule this event fires: an outbox message (for the live
/// stream and AMQP) already marked dispatched, and a delivery to the rule's webhook only.
#[tracing::instrument(skip_all)]
pub async fn fire(
    conn: &mut AnyConnection,
    dist_id: i64,
    event: &ReleaseEvent,
) -> Result<usize, AppError> {
    let rules: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, on_action, webhook_id FROM release_rules \
         WHERE dist_id = $1 AND state = $2 AND active = 1 ORDER BY id",
    )
    .bind(dist_id)
    .bind(&event.state)
    .fetch_all(&mut *conn)
    .await?;
    let mut fired = 0;
    for (rule_id, on, webhook_id) in rules {
        let on = stored(
            "release_rules",
            "on_action",
            &on,
            Action::parse(&on).ok_or(UNKNOWN),
        )?;
        if !rule_fires(on, event) {
            continue;
        }
        let payload = serde_json::json!({ "rule": rule_id, "dist": event.dist, "event": event });
        let outbox_id =
            crate::backend::messaging::outbox::enqueue(&mut *conn, RULE_TOPIC, &payload).await?;
        let now = now_millis();
        sqlx::query("UPDATE outbox SET dispatched_at = $1 WHERE id = $2")
            .bind(now)
            .bind(outbox_id)
            .execute(&mut *conn)
            .await?;
        if let Some(webhook_id) = webhook_id {
            sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, outbox_id, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, 0, $3, $3)",
            )
            .bind(webhook_id)
            .bind(outbox_id)
            .bind(now)
            .execute(&mut *conn)
            .await
            ?;
        }
        fired += 1;
    }
    Ok(fired)
}
