//! Signing in with a username and password, with a per-username throttle.

use super::clock::now_millis;
use super::db::{internal, Db};
use super::passwords;
use super::users::{self, UserRecord};
use crate::error::AppError;

pub const MAX_FAILURES: i64 = 5;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// Checks the credentials. Every failure looks the same to the caller (`Unauthorized`) and
/// costs one argon2 verification, whether the user exists, is disabled or typed a wrong
/// password. After `MAX_FAILURES` failures for one username within `WINDOW_MS`, every attempt
/// is refused with `TooManyRequests` until the window has passed.
pub async fn attempt(db: &Db, username: &str, password: &str) -> Result<UserRecord, AppError> {
    let now = now_millis();
    let (failures,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at > $2")
            .bind(username)
            .bind(now - WINDOW_MS)
            .fetch_one(&db.pool)
            .await
            .map_err(internal)?;
    if failures >= MAX_FAILURES {
        return Err(AppError::TooManyRequests);
    }

    let user = users::find_by_username(db, username).await?;
    let verified = passwords::verify(
        password.to_string(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    match user {
        Some(user) if verified && !user.disabled => {
            sqlx::query("DELETE FROM login_failures WHERE username = $1")
                .bind(username)
                .execute(&db.pool)
                .await
                .map_err(internal)?;
            Ok(user)
        }
        _ => {
            record_failure(db, username, now).await?;
            Err(AppError::Unauthorized)
        }
    }
}

async fn record_failure(db: &Db, username: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    // Old failures no longer count; dropping them here keeps the table small.
    sqlx::query("DELETE FROM login_failures WHERE at <= $1")
        .bind(now - WINDOW_MS)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    sqlx::query("INSERT INTO login_failures (username, at) VALUES ($1, $2)")
        .bind(username)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    tx.commit().await.map_err(internal)
}
