//! The release-stream views, shared by the REST API, the server functions and the public
//! pages: the dist's timeline from the cache, then a pure function of its spans.

use super::audit::Actor;
use super::release_stream::{self as store, DistRef};
use super::AppState;
use crate::error::AppError;
use crate::model::release_stream::{
    self as rules, NewReleaseEvent, OrderedMap, ReleaseEvent, ReleaseHistory, StatusPageData,
};
use crate::model::timeline::{Diff, Timeline};
use std::sync::Arc;

/// Records an event, then makes this replica's next view of the dist show it and wakes the
/// outbox to deliver its message.
pub async fn record(
    state: &AppState,
    actor: &Actor,
    new: &NewReleaseEvent,
) -> Result<ReleaseEvent, AppError> {
    let (dist_id, event) = store::record(&state.db, actor, new).await?;
    state.timelines.changed(dist_id);
    state.outbox.wake();
    Ok(event)
}

async fn timeline_of(state: &AppState, dist: &DistRef) -> Result<Arc<Timeline>, AppError> {
    state.timelines.get(&state.db, dist.id).await
}

pub async fn states_by_release(
    state: &AppState,
    dist: &DistRef,
    at: i64,
) -> Result<OrderedMap, AppError> {
    let timeline = timeline_of(state, dist).await?;
    Ok(rules::states_by_release(timeline.spans(), at))
}

pub async fn releases_by_state(
    state: &AppState,
    dist: &DistRef,
    at: i64,
) -> Result<OrderedMap, AppError> {
    let timeline = timeline_of(state, dist).await?;
    Ok(rules::releases_by_state(timeline.spans(), at))
}

pub async fn history(
    state: &AppState,
    dist: &DistRef,
    release: &str,
    at: i64,
) -> Result<ReleaseHistory, AppError> {
    let timeline = timeline_of(state, dist).await?;
    let spans = timeline.spans();
    let has_stays = spans.iter().any(|s| s.release == release);
    if !has_stays && !store::has_release(&state.db, dist.id, release).await? {
        return Err(AppError::not_found(format!(
            "release '{release}' of dist '{}'",
            dist.dist.name
        )));
    }
    Ok(rules::release_history(spans, release, at))
}

/// The diff, owned (for the pages).
pub async fn diff(
    state: &AppState,
    dist: &DistRef,
    from: i64,
    to: i64,
) -> Result<Diff<'static>, AppError> {
    Ok(timeline_of(state, dist).await?.diff(from, to).into_owned())
}

/// The diff as JSON, its transitions copied from the JSON the cached timeline keeps.
pub async fn diff_json(
    state: &AppState,
    dist: &DistRef,
    from: i64,
    to: i64,
) -> Result<String, AppError> {
    let timeline = timeline_of(state, dist).await?;
    timeline.diff_json(from, to).map_err(|err| {
        tracing::error!(error = %err, "diff not serialisable");
        AppError::Internal
    })
}

/// `{"fedora": {"stable": [32, 33], "branched": [34]}, …}` for the public dists.
pub async fn release_json(state: &AppState, at: i64) -> Result<serde_json::Value, AppError> {
    let mut out = serde_json::Map::new();
    for dist in store::public_dists(&state.db).await? {
        let timeline = timeline_of(state, &dist).await?;
        out.insert(
            dist.dist.name.clone(),
            rules::release_json_entry(
                timeline.spans(),
                at,
                &dist.dist.stable_state,
                &dist.dist.branched_state,
            ),
        );
    }
    Ok(serde_json::Value::Object(out))
}

/// The status page: the tables as of `at`, the timeline chart up to `now`.
pub async fn status_page(
    state: &AppState,
    dist: &DistRef,
    now: i64,
    at: i64,
) -> Result<StatusPageData, AppError> {
    let timeline = timeline_of(state, dist).await?;
    let spans = timeline.spans();
    let since = rules::timeline_since(spans);
    Ok(StatusPageData {
        dist: dist.dist.clone(),
        now,
        at,
        states_by_release: rules::states_by_release(spans, at).0,
        releases_by_state: rules::releases_by_state(spans, at).0,
        since,
        spans: rules::spans_overlapping(spans, since, now),
    })
}
