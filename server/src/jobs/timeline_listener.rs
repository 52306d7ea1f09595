//! The release stream's timelines: loaded once at start, so the first visitors find them in
//! memory, and on PostgreSQL kept current by listening for new events, reconnecting when the
//! connection drops (less and less often while the database stays down).

use crate::jobs::outage::Outage;
use app::backend::infra::db::NativePool;
use app::backend::AppState;

pub async fn run(state: AppState) {
    if let Err(e) = state.timelines.warm_up(&state.db).await {
        tracing::warn!(error = %e, "cannot load the release timelines ahead; loading them on first view");
    }
    let NativePool::Postgres(pool) = state.db.native.clone() else {
        return;
    };
    let mut outage = Outage::default();
    while !pool.is_closed() {
        let listening = state.timelines.listen(&pool);
        tokio::pin!(listening);
        let ended = tokio::select! {
            ended = &mut listening => ended,
            () = state.timelines.until_listening() => {
                if outage.recovered() {
                    tracing::info!("release-event listener is back");
                }
                listening.await
            }
        };
        if let Err(e) = ended {
            if pool.is_closed() {
                return;
            }
            let (wait, first) = outage.failed();
            if first {
                tracing::warn!(error = %e, "release-event listener down; checking versions per view until it is back");
            }
            tokio::time::sleep(wait).await;
        }
    }
}
