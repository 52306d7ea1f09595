//! The audit log: who wrote what, when, from where. Every write records one entry in the same
//! transaction as the write itself.

use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::Db;
use crate::error::AppError;
use crate::model::{AuditEntry, AuditFilter};
use sqlx::AnyConnection;

/// Who did something and from which address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub address: String,
}

impl Actor {
    /// Changes made with the `sluice` command on the server itself.
    pub fn cli() -> Actor {
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        Actor {
            name: format!("cli:{user}"),
            address: "local".into(),
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, detail, address) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now_millis())
    .bind(&actor.name)
    .bind(action)
    .bind(target)
    .bind(detail)
    .bind(&actor.address)
    .execute(conn)
    .await?;
    Ok(())
}

pub const PAGE_SIZE: i64 = 100;

/// Newest first, at most one page, filtered by exact actor and action prefix.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, filter: &AuditFilter) -> Result<Vec<AuditEntry>, AppError> {
    let actor = filter.actor.clone().filter(|s| !s.is_empty());
    let action = filter
        .action
        .clone()
        .filter(|s| !s.is_empty())
        .map(|a| format!("{a}%"));
    let rows: Vec<AuditEntry> = sqlx::query_as(
        "SELECT id, at, actor, action, target, detail, address FROM audit_log \
         WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action LIKE $2) \
           AND ($3 IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4",
    )
    .bind(actor)
    .bind(action)
    .bind(filter.before_id)
    .bind(PAGE_SIZE)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows)
}
