//! Keeps this replica's catalog fresh: rebuilt when another replica says it changed
//! (PostgreSQL `NOTIFY`), and every 30 seconds as a safety net. While the database is down it
//! keeps the catalog it has (devices are still answered) and tries again less and less often.

use crate::jobs::outage::Outage;
use app::backend::catalog::store::NOTIFY_CHANNEL;
use app::backend::infra::db::{pg_listener, NativePool};
use app::backend::AppState;
use std::time::Duration;

const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// During an outage: a listener that has not failed again within this long is back.
const BACK_WITHIN: Duration = Duration::from_secs(1);

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
    let mut outage = Outage::default();
    loop {
        match listener.as_mut() {
            Some(l) => {
                let wait = if outage.ongoing() {
                    BACK_WITHIN
                } else {
                    REFRESH_EVERY
                };
                // A notice, a connection lost and made again (notices may have been missed),
                // or quiet for a while: each is a reason to rebuild. Only a failure to reach
                // the database is not.
                if let Ok(Err(e)) = tokio::time::timeout(wait, l.try_recv()).await {
                    let (wait, first) = outage.failed();
                    if first {
                        tracing::warn!(error = %e, "catalog listener cannot reach the database; devices are answered from the catalog in memory meanwhile");
                    }
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            None => tokio::time::sleep(REFRESH_EVERY).await,
        }
        match state.catalog.reload(db).await {
            Ok(()) => {
                if outage.recovered() {
                    tracing::info!("catalog listener reaches the database again; catalog reloaded");
                }
            }
            Err(e) => {
                let (wait, first) = outage.failed();
                if first {
                    tracing::warn!(error = %e, "catalog refresh failed; keeping the previous one");
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
}
