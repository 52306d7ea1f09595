//! Rollouts over the API: start one, read its state, steer it. Release managers and admins
//! write; every signed-in role reads.

use super::ApiJson;
use app::backend::{rollouts, AppState, Caller};
use app::model::rollout::{BucketView, Command, NewRollout, RolloutEvent, RolloutView};
use app::model::Role;
use app::AppError;
use axum::extract::{Path, Query, State};
use axum::Json;
use http::StatusCode;
use serde::Deserialize;

const STEERING: &[Role] = &[Role::ReleaseManager];
const READERS: &[Role] = Role::READERS;

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewRollout>,
) -> Result<(StatusCode, Json<RolloutView>), AppError> {
    caller.require(STEERING)?;
    let id = rollouts::create(&state.db, &caller.actor(), &new).await?;
    state.catalog.changed(&state.db).await?;
    let view = rollouts::view(&state.db, &state.catalog.rollouts, id).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize)]
pub struct ListQuery {
    dist: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<RolloutView>>, AppError> {
    caller.require(READERS)?;
    let dist = query
        .dist
        .ok_or_else(|| AppError::validation("dist", "is required"))?;
    Ok(Json(
        rollouts::list(&state.db, &state.catalog.rollouts, &dist).await?,
    ))
}

pub async fn view(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RolloutView>, AppError> {
    caller.require(READERS)?;
    Ok(Json(
        rollouts::view(&state.db, &state.catalog.rollouts, id).await?,
    ))
}

pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<RolloutEvent>>, AppError> {
    caller.require(READERS)?;
    Ok(Json(rollouts::history_of(&state.db, id).await?))
}

#[derive(Deserialize)]
pub struct BucketQuery {
    uuid: Option<String>,
}

pub async fn bucket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(query): Query<BucketQuery>,
) -> Result<Json<BucketView>, AppError> {
    caller.require(READERS)?;
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
    caller.require(STEERING)?;
    let command = Command::parse(&action).ok_or_else(|| AppError::not_found("rollout action"))?;
    rollouts::command(
        &state.db,
        &caller.actor(),
        id,
        command,
        body.percent,
        &body.reason,
    )
    .await?;
    state.catalog.changed(&state.db).await?;
    Ok(Json(
        rollouts::view(&state.db, &state.catalog.rollouts, id).await?,
    ))
}
