//! API tokens: random secrets shown once, stored as SHA-256 digests.

use crate::backend::infra::audit::{self, Actor};
use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::{is_unique_violation, stored, Db};
use crate::error::AppError;
use crate::model::{check_name, NewToken, Role, TokenView, TOKEN_NAME_MAX};
use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

pub const TOKEN_PREFIX: &str = "sluice_";

/// Writing `last_used_at` on every request would turn each API call into a write; a minute's
/// precision is enough to tell whether a token is still in use.
const LAST_USED_PRECISION_MS: i64 = 60_000;

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    name: String,
    role: String,
    created_by: String,
    created_at: i64,
    last_used_at: Option<i64>,
}

const COLUMNS: &str = "id, name, role, created_by, created_at, last_used_at";

fn from_row(
    Row {
        id,
        name,
        role,
        created_by,
        created_at,
        last_used_at,
    }: Row,
) -> Result<TokenView, AppError> {
    Ok(TokenView {
        id,
        name,
        role: stored("api_tokens", "role", &role, role.parse())?,
        created_by,
        created_at,
        last_used_at,
    })
}

#[tracing::instrument(skip_all)]
pub async fn create(db: &Db, actor: &Actor, name: &str, role: Role) -> Result<NewToken, AppError> {
    check_name("name", name, TOKEN_NAME_MAX)?;
    let secret = new_secret();
    let mut tx = db.begin().await?;
    let row: Row = sqlx::query_as(&format!(
        "INSERT INTO api_tokens (name, token_hash, role, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    ))
    .bind(name)
    .bind(digest(&secret))
    .bind(role.as_str())
    .bind(&actor.name)
    .bind(now_millis())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict(format!("an active token named '{name}' already exists"))
        } else {
            e.into()
        }
    })?;
    audit::record(
        &mut tx,
        actor,
        "token.create",
        name,
        &format!("role {role}"),
    )
    .await?;
    tx.commit().await?;
    Ok(NewToken {
        token: from_row(row)?,
        secret,
    })
}

/// The tokens not revoked, newest first.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db) -> Result<Vec<TokenView>, AppError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE revoked_at IS NULL ORDER BY id DESC"
    ))
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter().map(from_row).collect()
}

#[tracing::instrument(skip_all)]
pub async fn revoke(db: &Db, actor: &Actor, name: &str) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let result =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
            .bind(now_millis())
            .bind(name)
            .execute(&mut *tx)
            .await?;
    if result.rows_affected() == 0 {
        return Err(AppError::not_found(format!("active token '{name}'")));
    }
    audit::record(&mut tx, actor, "token.revoke", name, "").await?;
    tx.commit().await?;
    Ok(())
}

/// The active token with this secret, if any; notes when it was last used.
#[tracing::instrument(skip_all)]
pub async fn authenticate(db: &Db, secret: &str) -> Result<Option<TokenView>, AppError> {
    if !secret.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL"
    ))
    .bind(digest(secret))
    .fetch_optional(&db.pool)
    .await?;
    let Some(token) = row.map(from_row).transpose()? else {
        return Ok(None);
    };
    let now = now_millis();
    if token
        .last_used_at
        .is_none_or(|t| now - t >= LAST_USED_PRECISION_MS)
    {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(token.id)
            .execute(&db.pool)
            .await?;
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_stored_only_as_digests() {
        let a = new_secret();
        let b = new_secret();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert_ne!(a, b);
        assert_eq!(digest(&a).len(), 64);
        assert_ne!(digest(&a), a);
    }
}
