//! The release-stream views, shared by the REST API, the server functions and the public
//! pages: one indexed span query each, then a pure function from `model::release_stream`.

use super::release_stream::{self as store, DistRef};
use super::Db;
use crate::error::AppError;
use crate::model::release_stream::{
    self as rules, Diff, OrderedMap, ReleaseHistory, StatusPageData,
};

pub async fn states_by_release(db: &Db, dist: &DistRef, at: i64) -> Result<OrderedMap, AppError> {
    Ok(rules::states_by_release(
        &store::spans_at(db, dist.id, at).await?,
        at,
    ))
}

pub async fn releases_by_state(db: &Db, dist: &DistRef, at: i64) -> Result<OrderedMap, AppError> {
    Ok(rules::releases_by_state(
        &store::spans_at(db, dist.id, at).await?,
        at,
    ))
}

pub async fn history(
    db: &Db,
    dist: &DistRef,
    release: &str,
    at: i64,
) -> Result<ReleaseHistory, AppError> {
    let spans = store::spans_of_release(db, dist.id, release).await?;
    if spans.is_empty() && !store::has_release(db, dist.id, release).await? {
        return Err(AppError::not_found(format!(
            "release '{release}' of dist '{}'",
            dist.dist.name
        )));
    }
    Ok(rules::release_history(&spans, release, at))
}

pub async fn diff(db: &Db, dist: &DistRef, from: i64, to: i64) -> Result<Diff, AppError> {
    let (from, to) = if from <= to { (from, to) } else { (to, from) };
    Ok(rules::diff(
        &store::spans_between(db, dist.id, from, to).await?,
        from,
        to,
    ))
}

/// `{"fedora": {"stable": [32, 33], "branched": [34]}, …}` for the public dists.
pub async fn release_json(db: &Db, at: i64) -> Result<serde_json::Value, AppError> {
    let mut out = serde_json::Map::new();
    for (dist, spans) in store::public_spans_at(db, at).await? {
        out.insert(
            dist.name.clone(),
            rules::release_json_entry(&spans, at, &dist.stable_state, &dist.branched_state),
        );
    }
    Ok(serde_json::Value::Object(out))
}

pub async fn status_page(db: &Db, dist: &DistRef, now: i64) -> Result<StatusPageData, AppError> {
    let spans = store::spans_of_dist(db, dist.id).await?;
    Ok(StatusPageData {
        dist: dist.dist.clone(),
        now,
        states_by_release: rules::states_by_release(&spans, now).0,
        spans,
    })
}
