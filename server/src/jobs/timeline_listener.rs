//! The release stream's timelines: loaded once at start, so the first visitors find them in
//! memory, and on PostgreSQL kept current by listening for new events, reconnecting when the
//! connection drops.

use app::backend::infra::db::NativePool;
use app::backend::AppState;
use std::time::Duration;

const RECONNECT_AFTER: Duration = Duration::from_secs(1);

pub async fn run(state: AppState) {
    if let Err(e) = state.timelines.warm_up(&state.db).await {
        tracing::warn!(error = %e, "cannot load the release timelines ahead; loading them on first view");
    }
    let NativePool::Postgres(pool) = state.db.native.clone() else {
        return;
    };
    while !pool.is_closed() {
        if let Err(e) = state.timelines.listen(&pool).await {
            if !pool.is_closed() {
                tracing::warn!(error = %e, "release-event listener down; checking versions per view");
            }
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}
