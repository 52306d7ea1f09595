//! The release stream's timelines: loaded once at start, so the first visitors find them in
//! memory, and on PostgreSQL kept current by listening for new events, reconnecting when the
//! connection drops.

use super::Stop;
use app::backend::infra::db::NativePool;
use app::backend::AppState;
use std::time::Duration;

const RECONNECT_AFTER: Duration = Duration::from_secs(1);

pub async fn run(state: AppState, stop: Stop) {
    let stop = stop.requested();
    tokio::pin!(stop);
    let warm_up = state.timelines.warm_up(&state.db);
    tokio::select! {
        () = &mut stop => return,
        result = warm_up => if let Err(e) = result {
            tracing::warn!(error = %e, "cannot load the release timelines ahead; loading them on first view");
        },
    }
    let NativePool::Postgres(pool) = state.db.native.clone() else {
        return;
    };
    while !pool.is_closed() {
        tokio::select! {
            () = &mut stop => return,
            result = state.timelines.listen(&pool) => if let Err(e) = result {
                if !pool.is_closed() {
                    tracing::warn!(error = %e, "release-event listener down; checking versions per view");
                }
            },
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(RECONNECT_AFTER) => {}
        }
    }
}
