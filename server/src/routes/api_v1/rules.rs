//! Release rules over the API (admins only, like the webhooks they point at).

use super::ApiJson;
use app::backend::{release_stream::rules as release_rules, AppState, Caller};
use app::model::release_stream::{NewReleaseRule, ReleaseRule};
use app::AppError;
use axum::extract::{Path, Query, State};
use axum::Json;
use http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct RuleFilter {
    dist: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Query(filter): Query<RuleFilter>,
) -> Result<Json<Vec<ReleaseRule>>, AppError> {
    Ok(Json(
        release_rules::list(&state.db, filter.dist.as_deref()).await?,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewReleaseRule>,
) -> Result<(StatusCode, Json<ReleaseRule>), AppError> {
    let rule = release_rules::create(&state.db, &caller.actor(), &body).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    release_rules::remove(&state.db, &caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
