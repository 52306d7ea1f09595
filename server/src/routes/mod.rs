//! The HTTP edge that is not a Leptos page: health and the device protocol (a lean router with
//! no session or console machinery: it is the hot path), and the sign-in forms, `/api/v1` and
//! the release stream's endpoints (beside the console's pages).

pub mod api_v1;
pub mod atom_feed;
pub mod csrf;
pub mod device;
pub mod edge;
pub mod forms;
pub mod health;
pub mod input_guard;
pub mod json_errors;
pub mod page_nonce;
pub mod release_stream;
pub mod rpc_status;

use app::backend::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

/// Health and the device protocol: no session, no CSRF check, no console.
pub fn device_router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/v1/upgrade", get(device::upgrade))
        .route("/v1/dists/{dist}", get(device::dist_info))
        .route(
            "/legacy/{dist}/{branch}/{board}/{file}",
            get(device::legacy_version),
        )
        .route(
            "/v1/log",
            post(device::report).layer(DefaultBodyLimit::max(device::MAX_REPORT_BYTES)),
        )
}

/// The sign-in forms, `/api/v1` and the release stream's endpoints.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(forms::login))
        .route("/logout", post(forms::logout))
        .route("/setup", post(forms::setup))
        .route("/event", post(release_stream::post_event))
        .route("/release.json", get(release_stream::release_json))
        .route("/status/{dist}/feed.atom", get(atom_feed::feed))
        .nest("/api/v1", api_v1::router())
        .layer(axum::middleware::from_fn(json_errors::rejections_as_json))
}
