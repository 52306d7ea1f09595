//! Dists, mirrors and builds over the API. Every write refreshes the in-memory catalog the
//! device hot path reads.

use super::ApiJson;
use app::backend::builds::{self, Registered};
use app::backend::{dists, AppState, Caller};
use app::model::dist::{
    BuildDetail, BuildView, DistView, MirrorView, NewBuild, NewDist, NewMirror,
};
use app::model::Role;
use app::AppError;
use axum::extract::{Path, Query, State};
use axum::Json;
use http::StatusCode;
use serde::Deserialize;

const REGISTRARS: &[Role] = &[Role::ReleaseManager];
const READERS: &[Role] = Role::READERS;

pub async fn list_dists(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<DistView>>, AppError> {
    caller.require(READERS)?;
    Ok(Json(dists::list(&state.db).await?))
}

pub async fn create_dist(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewDist>,
) -> Result<(StatusCode, Json<DistView>), AppError> {
    caller.require(&[Role::Admin])?;
    let dist = dists::create(&state.db, &caller.actor(), &new).await?;
    state.catalog.changed(&state.db).await?;
    Ok((StatusCode::CREATED, Json(dist)))
}

#[derive(serde::Deserialize)]
pub struct ReportKey {
    key: Option<String>,
}

/// `PUT /api/v1/dists/{dist}/report-key` (admin): `{"key": "…"}` makes the dist's device reports
/// count only with `X-Sluice-Report-Key: …`; `{"key": null}` removes the requirement.
pub async fn set_report_key(
    State(state): State<AppState>,
    caller: Caller,
    Path(dist): Path<String>,
    ApiJson(body): ApiJson<ReportKey>,
) -> Result<Json<serde_json::Value>, AppError> {
    caller.require(&[Role::Admin])?;
    dists::set_report_key(&state.db, &caller.actor(), &dist, body.key.as_deref()).await?;
    state.catalog.changed(&state.db).await?;
    Ok(Json(
        serde_json::json!({ "dist": dist, "report_key_required": body.key.is_some() }),
    ))
}

pub async fn list_mirrors(
    State(state): State<AppState>,
    caller: Caller,
    Path(dist): Path<String>,
) -> Result<Json<Vec<MirrorView>>, AppError> {
    caller.require(READERS)?;
    Ok(Json(dists::mirrors(&state.db, &dist).await?))
}

pub async fn add_mirror(
    State(state): State<AppState>,
    caller: Caller,
    Path(dist): Path<String>,
    ApiJson(new): ApiJson<NewMirror>,
) -> Result<(StatusCode, Json<MirrorView>), AppError> {
    caller.require(&[Role::Admin])?;
    let mirror = dists::add_mirror(&state.db, &caller.actor(), &dist, &new).await?;
    state.catalog.changed(&state.db).await?;
    Ok((StatusCode::CREATED, Json(mirror)))
}

pub async fn remove_mirror(
    State(state): State<AppState>,
    caller: Caller,
    Path((dist, id)): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    caller.require(&[Role::Admin])?;
    dists::remove_mirror(&state.db, &caller.actor(), &dist, id).await?;
    state.catalog.changed(&state.db).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn register_build(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewBuild>,
) -> Result<(StatusCode, Json<BuildView>), AppError> {
    caller.require(REGISTRARS)?;
    match builds::register(&state.db, &caller.actor(), &new).await? {
        Registered::Created(build) => {
            state.catalog.changed(&state.db).await?;
            Ok((StatusCode::CREATED, Json(build)))
        }
        Registered::Existing(build) => Ok((StatusCode::OK, Json(build))),
    }
}

#[derive(Deserialize)]
pub struct BuildFilter {
    dist: Option<String>,
    branch: Option<String>,
    board: Option<String>,
}

pub async fn list_builds(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<BuildFilter>,
) -> Result<Json<Vec<BuildView>>, AppError> {
    caller.require(READERS)?;
    let dist = filter
        .dist
        .ok_or_else(|| AppError::validation("dist", "is required"))?;
    Ok(Json(
        builds::list(
            &state.db,
            &dist,
            filter.branch.as_deref(),
            filter.board.as_deref(),
        )
        .await?,
    ))
}

pub async fn build_detail(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<BuildDetail>, AppError> {
    caller.require(READERS)?;
    Ok(Json(builds::detail(&state.db, id).await?))
}

#[derive(Deserialize)]
pub struct Reason {
    #[serde(default)]
    reason: String,
}

pub async fn withdraw_build(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Json<BuildView>, AppError> {
    caller.require(REGISTRARS)?;
    // The body is optional: `{"reason": "..."}` or nothing.
    let reason = if body.is_empty() {
        String::new()
    } else {
        serde_json::from_slice::<Reason>(&body)
            .map_err(|e| AppError::validation("body", e.to_string()))?
            .reason
    };
    let build = builds::withdraw(&state.db, &caller.actor(), id, &reason).await?;
    state.catalog.changed(&state.db).await?;
    Ok(Json(build))
}

#[derive(Deserialize)]
pub struct Publication {
    version: String,
}

pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path((dist, channel)): Path<(String, String)>,
    ApiJson(publication): ApiJson<Publication>,
) -> Result<Json<BuildView>, AppError> {
    caller.require(REGISTRARS)?;
    let build = builds::publish(
        &state.db,
        &caller.actor(),
        &dist,
        &channel,
        &publication.version,
    )
    .await?;
    state.catalog.changed(&state.db).await?;
    Ok(Json(build))
}
