//! `/api/v1`: the REST API for scripts and CI. Every handler checks the caller's role itself.

mod accounts;
mod devices;
mod event_stream;
mod registry;
pub mod release_stream;
mod rollouts;
mod rules;
mod webhooks;

use app::backend::AppState;
use app::AppError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(accounts::me))
        .route(
            "/users",
            get(accounts::list_users).post(accounts::create_user),
        )
        .route(
            "/tokens",
            get(accounts::list_tokens).post(accounts::create_token),
        )
        .route("/audit", get(accounts::list_audit))
        .route(
            "/dists",
            get(registry::list_dists).post(registry::create_dist),
        )
        .route(
            "/dists/{dist}/mirrors",
            get(registry::list_mirrors).post(registry::add_mirror),
        )
        .route("/dists/{dist}/report-key", put(registry::set_report_key))
        .route(
            "/dists/{dist}/mirrors/{id}",
            delete(registry::remove_mirror),
        )
        .route("/dists/{dist}/versions", get(devices::version_counts))
        .route("/dists/{dist}/devices", get(devices::search))
        .route("/dists/{dist}/devices/{uuid}", get(devices::history))
        .route(
            "/builds",
            get(registry::list_builds).post(registry::register_build),
        )
        .route("/builds/{id}", get(registry::build_detail))
        .route("/builds/{id}/withdraw", post(registry::withdraw_build))
        .route(
            "/channels/{dist}/{channel}/publish",
            post(registry::publish),
        )
        .route("/rollouts", get(rollouts::list).post(rollouts::create))
        .route("/rollouts/{id}", get(rollouts::view))
        .route("/rollouts/{id}/history", get(rollouts::history))
        .route("/rollouts/{id}/bucket", get(rollouts::bucket))
        .route("/rollouts/{id}/{action}", post(rollouts::steer))
        .route(
            "/events",
            get(release_stream::list_events).post(release_stream::post_event),
        )
        .route("/events/stream", get(event_stream::stream))
        .route("/release-dists", get(release_stream::list_dists))
        .route(
            "/dists/{dist}/states-by-release",
            get(release_stream::states_by_release),
        )
        .route(
            "/dists/{dist}/releases-by-state",
            get(release_stream::releases_by_state),
        )
        .route(
            "/dists/{dist}/releases/{release}/history",
            get(release_stream::history),
        )
        .route("/dists/{dist}/diff", get(release_stream::diff))
        .route(
            "/dists/{dist}/release-settings",
            put(release_stream::set_settings),
        )
        .route("/rules", get(rules::list).post(rules::create))
        .route("/rules/{id}", delete(rules::remove))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}/active", put(webhooks::set_active))
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route(
            "/webhooks/deliveries/{id}/redeliver",
            post(webhooks::redeliver),
        )
        .fallback(not_found)
}

/// A JSON body whose problems answer 400 in the API's error format, naming what is wrong.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(body_error(rejection)),
        }
    }
}

fn body_error(rejection: JsonRejection) -> AppError {
    let message = match &rejection {
        JsonRejection::JsonDataError(e) => e.body_text(),
        JsonRejection::JsonSyntaxError(e) => e.body_text(),
        JsonRejection::MissingJsonContentType(_) => {
            "expected Content-Type: application/json".into()
        }
        other => other.body_text(),
    };
    AppError::validation("body", message)
}

async fn not_found() -> AppError {
    AppError::not_found("API route")
}
