//! The release-stream views, shared by the REST API, the server functions and the public
//! pages: the dist's timeline from the cache, then a pure function of its spans.

use crate::backend::infra::audit::Actor;
use crate::backend::infra::db::Db;
use crate::backend::messaging::outbox::Outbox;
use crate::backend::registry::stream_dists::{self, DistRef};
use crate::backend::release_stream::events as store;
use crate::backend::release_stream::timeline_cache::TimelineCache;
use crate::error::AppError;
use crate::model::release_stream::{
    self as rules, NewReleaseEvent, OrderedMap, ReleaseEvent, ReleaseHistory, StatusPageData,
};
use crate::model::timeline::Diff;

/// Records an event, then makes this replica's next view of the dist show it and wakes the
/// outbox to deliver its message.
#[tracing::instrument(skip_all)]
pub async fn record(
    db: &Db,
    timelines: &TimelineCache,
    outbox: &Outbox,
    actor: &Actor,
    new: &NewReleaseEvent,
) -> Result<ReleaseEvent, AppError> {
    let (dist_id, event) = store::record(db, actor, new).await?;
    timelines.changed(dist_id);
    outbox.wake();
    Ok(event)
}

#[tracing::instrument(skip_all)]
pub async fn states_by_release(
    db: &Db,
    timelines: &TimelineCache,
    dist: &DistRef,
    at: i64,
) -> Result<OrderedMap, AppError> {
    let timeline = timelines.get(db, dist.id).await?;
    Ok(rules::states_by_release(timeline.spans(), at))
}

#[tracing::instrument(skip_all)]
pub async fn releases_by_state(
    db: &Db,
    timelines: &TimelineCache,
    dist: &DistRef,
    at: i64,
) -> Result<OrderedMap, AppError> {
    let timeline = timelines.get(db, dist.id).await?;
    Ok(rules::releases_by_state(timeline.spans(), at))
}

#[tracing::instrument(skip_all)]
pub async fn history(
    db: &Db,
    timelines: &TimelineCache,
    dist: &DistRef,
    release: &str,
    at: i64,
) -> Result<ReleaseHistory, AppError> {
    let timeline = timelines.get(db, dist.id).await?;
    let spans = timeline.spans();
    let has_stays = spans.iter().any(|s| s.release == release);
    if !has_stays && !store::has_release(db, dist.id, release).await? {
        return Err(AppError::not_found(format!(
            "release '{release}' of dist '{}'",
            dist.dist.name
        )));
    }
    Ok(rules::release_history(spans, release, at))
}

/// The diff, owned (for the pages).
#[tracing::instrument(skip_all)]
pub async fn diff(
    db: &Db,
    timelines: &TimelineCache,
    dist: &DistRef,
    from: i64,
    to: i64,
) -> Result<Diff<'static>, AppError> {
    Ok(timelines
        .get(db, dist.id)
        .await?
        .diff(from, to)
        .into_owned())
}

/// The diff as JSON, its transitions copied from the JSON the cached timeline keeps.
#[tracing::instrument(skip_all)]
pub async fn diff_json(
    db: &Db,
    timelines: &TimelineCache,
    dist: &DistRef,
    from: i64,
    to: i64,
) -> Result<String, AppError> {
    let timeline = timelines.get(db, dist.id).await?;
    timeline.diff_json(from, to).map_err(|err| {
        tracing::error!(error = %err, "diff not serialisable");
        AppError::Internal
    })
}

/// `{"fedora": {"stable": [32, 33], "branched": [34]}, …}` for the public dists.
#[tracing::instrument(skip_all)]
pub async fn release_json(
    db: &Db,
    timelines: &TimelineCache,
    at: i64,
) -> Result<serde_json::Value, AppError> {
    let mut out = serde_json::Map::new();
    for dist in stream_dists::public_dists(db).await? {
        let timeline = timelines.get(db, dist.id).await?;
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
#[tracing::instrument(skip_all)]
pub async fn status_page(
    db: &Db,
    timelines: &TimelineCache,
    dist: &DistRef,
    now: i64,
    at: i64,
) -> Result<StatusPageData, AppError> {
    let timeline = timelines.get(db, dist.id).await?;
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
