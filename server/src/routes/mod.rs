//! The HTTP edge that is not a Leptos page: health, the sign-in forms, and `/api/v1`.

pub mod api_v1;
pub mod atom_feed;
pub mod client_ip;
pub mod csrf;
pub mod device;
pub mod forms;
pub mod health;
pub mod input_guard;
pub mod json_errors;
pub mod release_stream;
pub mod rpc_status;
pub mod security_headers;

use app::backend::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/login", post(forms::login))
        .route("/logout", post(forms::logout))
        .route("/setup", post(forms::setup))
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
        .route("/event", post(release_stream::post_event))
        .route("/release.json", get(release_stream::release_json))
        .route("/status/{dist}/feed.atom", get(atom_feed::feed))
        .nest("/api/v1", api_v1::router())
        .layer(axum::middleware::from_fn(json_errors::rejections_as_json))
}
