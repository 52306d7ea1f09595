//! Devices over the API: counts per version, search, one device's history.

use app::backend::{devices::check_ins as devices, AppState, Caller};
use app::model::dist::{DeviceHistory, DeviceView, VersionCount};
use app::AppError;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;

pub async fn version_counts(
    State(state): State<AppState>,
    _caller: Caller,
    Path(dist): Path<String>,
) -> Result<Json<Vec<VersionCount>>, AppError> {
    Ok(Json(devices::version_counts(&state.db, &dist).await?))
}

#[derive(Deserialize)]
pub struct Search {
    #[serde(default)]
    uuid: String,
}

pub async fn search(
    State(state): State<AppState>,
    _caller: Caller,
    Path(dist): Path<String>,
    Query(search): Query<Search>,
) -> Result<Json<Vec<DeviceView>>, AppError> {
    Ok(Json(devices::search(&state.db, &dist, &search.uuid).await?))
}

pub async fn history(
    State(state): State<AppState>,
    _caller: Caller,
    Path((dist, uuid)): Path<(String, String)>,
) -> Result<Json<DeviceHistory>, AppError> {
    Ok(Json(devices::history(&state.db, &dist, &uuid).await?))
}
