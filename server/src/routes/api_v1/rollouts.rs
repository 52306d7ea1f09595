//! Rollouts over the API: start one, read its state, steer it. Release managers and admins
//! write; every signed-in role reads.

use super::ApiJson;
use app::backend::{rollouts::store as rollouts, AppState, Caller};
use app::model::rollout::{BucketView, Command, NewRollout, RolloutEvent, RolloutView};
use app::AppError;
use axum::extract::{Path, Query, State};
use axum::Json;
use http::StatusCode;
use serde::Deserialize;

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewRollout>,
) -> Result<(StatusCode, Json<RolloutView>), AppError> {
    let id = rollouts::create(&state.db, &state.catalog, &caller.actor(), &new).await?;
    let view = rollouts::view(&state.db, &state.catalog.rollouts, id).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize)]
pub struct ListQuery {
    dist: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<RolloutView>>, AppError> {
    let dist = query
        .dist
        .ok_or_else(|| AppError::validation("dist", "is required"))?;
    Ok(Json(
        rollouts::list(&state.db, &state.catalog.rollouts, &dist).await?,
    ))
}

pub async fn view(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RolloutView>, AppError> {
    Ok(Json(
        rollouts::view(&state.db, &state.catalog.rollouts, id).await?,
    ))
}

pub async fn history(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<RolloutEvent>>, AppError> {
    Ok(Json(rollouts::history_of(&state.db, id).await?))
}

#[derive(Deserialize)]
pub struct BucketQuery {
    uuid: Option<String>,
}

pub async fn bucket(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<BucketQuery>,
) -> Result<Json<BucketView>, AppError> {
    let uuid = query.uuid.unwrap_or_default();
    Ok(Json(rollouts::bucket_of(&state.db, id, &uuid).await?))
}

#[derive(Deserialize)]
pub struct Steer {
    #[serde(default)]
    reason: String,
    percent: Option<f64>,
}

/// `POST /api/v1/rollouts/{id}/{pause|resume|halt|advance|rollback|percent}`.
pub async fn steer(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, action)): Path<(i64, String)>,
    ApiJson(body): ApiJson<Steer>,
) -> Result<Json<RolloutView>, AppError> {
    let command = Command::parse(&action).ok_or_else(|| AppError::not_found("rollout action"))?;
    rollouts::command(
        &state.db,
        &state.catalog,
        &caller.actor(),
        id,
        command,
        body.percent,
        &body.reason,
    )
    .await?;
    Ok(Json(
        rollouts::view(&state.db, &state.catalog.rollouts, id).await?,
    ))
}
