//! Webhooks over the API (admins only): register, list, switch off, read the delivery log,
//! send a delivery again.

use super::ApiJson;
use app::backend::messaging::webhooks::{self, DeliveryView, NewWebhook, WebhookView};
use app::backend::{AppState, Caller};
use app::AppError;
use axum::extract::{Path, State};
use axum::Json;
use http::StatusCode;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct NewWebhookRequest {
    url: String,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewWebhookRequest>,
) -> Result<(StatusCode, Json<NewWebhook>), AppError> {
    let created =
        webhooks::create(&state.db, &state.outbound, &caller.actor(), body.url.trim()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<WebhookView>>, AppError> {
    Ok(Json(webhooks::list(&state.db).await?))
}

#[derive(Deserialize)]
pub struct Active {
    active: bool,
}

pub async fn set_active(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<Active>,
) -> Result<Json<WebhookView>, AppError> {
    Ok(Json(
        webhooks::set_active(&state.db, &caller.actor(), id, body.active).await?,
    ))
}

pub async fn deliveries(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<DeliveryView>>, AppError> {
    Ok(Json(webhooks::deliveries(&state.db, id).await?))
}

#[derive(serde::Serialize)]
pub struct Redelivery {
    delivery_id: i64,
}

pub async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Redelivery>), AppError> {
    let delivery_id = webhooks::redeliver(&state.db, &caller.actor(), id).await?;
    state.outbox.wake();
    Ok((StatusCode::ACCEPTED, Json(Redelivery { delivery_id })))
}
