//! Signing in with a username and password, behind two throttles whose attempts are reserved
//! before the password is checked, so concurrent attempts cannot slip past them:
//! - per address and username: `MAX_FAILURES_PER_ACCOUNT` failures within `WINDOW_MS` refuse
//!   that username from that address. Keyed by the address too, so that anyone who knows a
//!   username (names are public in some views) cannot lock its owner out from elsewhere.
//! - per address: `MAX_FAILURES_PER_ADDRESS` failures within `WINDOW_MS`, whatever the
//!   usernames, refuse the address (spraying passwords over many names).

use crate::backend::accounts::passwords;
use crate::backend::accounts::users::{self, UserRecord};
use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::Db;
use crate::error::AppError;

pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 30;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;

/// Checks the credentials. Every failure looks the same to the caller (`Unauthorized`) and
/// costs one argon2 verification, whether the user exists, is disabled or typed a wrong
/// password. Beyond a throttle, attempts are refused with `TooManyRequests` unchecked.
#[tracing::instrument(skip_all)]
pub async fn attempt(
    db: &Db,
    address: &str,
    username: &str,
    password: &str,
) -> Result<UserRecord, AppError> {
    let now = now_millis();
    let by_address = format!("address {address}");
    let by_account = format!("account {address} {username}");
    if reserve(db, &by_address, now).await? > MAX_FAILURES_PER_ADDRESS
        || reserve(db, &by_account, now).await? > MAX_FAILURES_PER_ACCOUNT
    {
        return Err(AppError::TooManyRequests);
    }

    let user = users::find_by_username(db, username).await?;
    let verified = passwords::verify(
        password.to_string(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    let verified = match verified {
        Ok(verified) => verified,
        Err(busy) => {
            // Not checked, so not a failure.
            give_back(db, &by_address).await?;
            give_back(db, &by_account).await?;
            return Err(busy);
        }
    };
    match user {
        Some(user) if verified && !user.disabled => {
            forget(db, &by_account).await?;
            give_back(db, &by_address).await?;
            Ok(user)
        }
        _ => Err(AppError::Unauthorized),
    }
}

/// Counts one more attempt under `key` and answers how many there have been in its window
/// (a window starts with its first attempt and lasts `WINDOW_MS`). One statement, so two
/// attempts at once are counted as two.
async fn reserve(db: &Db, key: &str, now: i64) -> Result<i64, AppError> {
    let (attempts,): (i64,) = sqlx::query_as(
        "INSERT INTO login_throttle (key, window_start, attempts) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           attempts = CASE WHEN login_throttle.window_start <= $3 THEN 1 \
                      ELSE login_throttle.attempts + 1 END, \
           window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 \
                          ELSE login_throttle.window_start END \
         RETURNING attempts",
    )
    .bind(key)
    .bind(now)
    .bind(now - WINDOW_MS)
    .fetch_one(&db.pool)
    .await?;
    if attempts == 1 {
        // A new window: windows that have ended no longer count, so drop them.
        sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1")
            .bind(now - WINDOW_MS)
            .execute(&db.pool)
            .await?;
    }
    Ok(attempts)
}

/// Takes back an attempt that turned out not to be a failure.
async fn give_back(db: &Db, key: &str) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE login_throttle SET attempts = attempts - 1 WHERE key = $1 AND attempts > 0",
    )
    .bind(key)
    .execute(&db.pool)
    .await?;
    Ok(())
}

async fn forget(db: &Db, key: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(&db.pool)
        .await?;
    Ok(())
}
