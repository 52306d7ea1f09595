//! Keeps this replica's catalog fresh: rebuilt when another replica says it changed
//! (PostgreSQL `NOTIFY`), and every 30 seconds as a safety net.

use app::backend::catalog::store::NOTIFY_CHANNEL;
use app::backend::infra::db::{pg_listener, NativePool};
use app::backend::AppState;
use std::time::Duration;

const REFRESH_EVERY: Duration = Duration::from_secs(30);

pub async fn run(state: AppState) {
    let db = &state.db;
    let mut listener = match &db.native {
        NativePool::Postgres(pool) => match pg_listener(pool, NOTIFY_CHANNEL).await {
            Ok(listener) => Some(listener),
            Err(e) => {
                tracing::warn!(error = %e, "cannot LISTEN for catalog changes; refreshing periodically");
                None
            }
        },
        NativePool::Sqlite(_) => None,
    };
    loop {
        match listener.as_mut() {
            Some(l) => {
                let _ = tokio::time::timeout(REFRESH_EVERY, l.recv()).await;
            }
            None => tokio::time::sleep(REFRESH_EVERY).await,
        }
        if let Err(e) = state.catalog.reload(db).await {
            tracing::warn!(error = %e, "catalog refresh failed; keeping the previous one");
        }
    }
}
