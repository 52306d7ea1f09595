//! Release rules over the API (admins only, like the webhooks they point at).

use super::ApiJson;
use app::backend::{release_rules, AppState, Caller};
use app::model::release_stream::{NewReleaseRule, ReleaseRule};
use app::model::Role;
use app::AppError;
use axum::extract::{Path, Query, State};
use axum::Json;
use http::StatusCode;
use serde::Deserialize;

const ADMINS: &[Role] = &[Role::Admin];

#[derive(Deserialize)]
pub struct RuleFilter {
    dist: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<RuleFilter>,
) -> Result<Json<Vec<ReleaseRule>>, AppError> {
    caller.require(ADMINS)?;
    Ok(Json(
        release_rules::list(&state.db, filter.dist.as_deref()).await?,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewReleaseRule>,
) -> Result<(StatusCode, Json<ReleaseRule>), AppError> {
    caller.require(ADMINS)?;
    let rule = release_rules::create(&state.db, &caller.actor(), &body).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    caller.require(ADMINS)?;
    release_rules::remove(&state.db, &caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
