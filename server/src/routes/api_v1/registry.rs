//! Dists, mirrors and builds over the API.

use super::ApiJson;
use app::backend::devices::build_detail;
use app::backend::registry::builds::{self, Registered};
use app::backend::rollouts::publishing;
use app::backend::{registry::dists, AppState, Caller};
use app::model::dist::{
    BuildDetail, BuildView, DistView, MirrorView, NewBuild, NewDist, NewMirror,
};
use app::AppError;
use axum::extract::{Path, Query, State};
use axum::Json;
use http::StatusCode;
use serde::Deserialize;

pub async fn list_dists(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<DistView>>, AppError> {
    Ok(Json(dists::list(&state.db).await?))
}

pub async fn create_dist(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewDist>,
) -> Result<(StatusCode, Json<DistView>), AppError> {
    let dist = dists::create(&state.db, &state.catalog, &caller.actor(), &new).await?;
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
    dists::set_report_key(
        &state.db,
        &state.catalog,
        &caller.actor(),
        &dist,
        body.key.as_deref(),
    )
    .await?;
    Ok(Json(
        serde_json::json!({ "dist": dist, "report_key_required": body.key.is_some() }),
    ))
}

pub async fn list_mirrors(
    State(state): State<AppState>,
    _caller: Caller,
    Path(dist): Path<String>,
) -> Result<Json<Vec<MirrorView>>, AppError> {
    Ok(Json(dists::mirrors(&state.db, &dist).await?))
}

pub async fn add_mirror(
    State(state): State<AppState>,
    caller: Caller,
    Path(dist): Path<String>,
    ApiJson(new): ApiJson<NewMirror>,
) -> Result<(StatusCode, Json<MirrorView>), AppError> {
    let mirror = dists::add_mirror(&state.db, &state.catalog, &caller.actor(), &dist, &new).await?;
    Ok((StatusCode::CREATED, Json(mirror)))
}

pub async fn remove_mirror(
    State(state): State<AppState>,
    caller: Caller,
    Path((dist, id)): Path<(String, i64)>,
) -> Result<StatusCode, AppError> {
    dists::remove_mirror(&state.db, &state.catalog, &caller.actor(), &dist, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn register_build(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewBuild>,
) -> Result<(StatusCode, Json<BuildView>), AppError> {
    match builds::register(&state.db, &state.catalog, &caller.actor(), &new).await? {
        Registered::Created(build) => Ok((StatusCode::CREATED, Json(build))),
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
    _caller: Caller,
    Query(filter): Query<BuildFilter>,
) -> Result<Json<Vec<BuildView>>, AppError> {
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
    _caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<BuildDetail>, AppError> {
    Ok(Json(build_detail::of_build(&state.db, id).await?))
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
    // `{"reason": "..."}`; without a body the reason is missing, and that is the error.
    let reason = if body.is_empty() {
        String::new()
    } else {
        serde_json::from_slice::<Reason>(&body)
            .map_err(|e| AppError::validation("body", e.to_string()))?
            .reason
    };
    let build =
        publishing::withdraw(&state.db, &state.catalog, &caller.actor(), id, &reason).await?;
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
    let build = publishing::publish(
        &state.db,
        &state.catalog,
        &caller.actor(),
        &dist,
        &channel,
        &publication.version,
    )
    .await?;
    Ok(Json(build))
}
