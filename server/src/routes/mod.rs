//! The HTTP edge that is not a Leptos page: health and the device protocol (a lean router with
//! no session or console machinery: it is the hot path), and the sign-in forms, `/api/v1` and
//! the release stream's endpoints (beside the console's pages).

pub mod api_v1;
pub mod atom_feed;
pub mod csrf;
pub mod device;
pub mod edge;
pub mod endpoints;
pub mod forms;
pub mod health;
pub mod input_guard;
pub mod json_errors;
pub mod page_nonce;
pub mod release_stream;
pub mod rpc_status;

use app::model::{Access, Permission};
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use endpoints::Routes;
use http::Method;

/// Health and the device protocol: no session, no CSRF check, no console.
pub fn device_routes() -> Routes<device::DeviceApi> {
    let anyone = Access::Anyone;
    Routes::default()
        .get("/healthz", anyone, health::healthz)
        .get("/readyz", anyone, health::readyz)
        .get("/v1/upgrade", anyone, device::upgrade)
        .get("/v1/dists/{dist}", anyone, device::dist_info)
        .get(
            "/legacy/{dist}/{branch}/{board}/{file}",
            anyone,
            device::legacy_version,
        )
        .add(
            Method::POST,
            "/v1/log",
            anyone,
            post(device::report).layer(DefaultBodyLimit::max(device::MAX_REPORT_BYTES)),
        )
}

/// The sign-in forms, `/api/v1` and the release stream's endpoints.
pub fn routes() -> Routes {
    let anyone = Access::Anyone;
    Routes::default()
        .post("/login", anyone, forms::login)
        .post("/logout", anyone, forms::logout)
        .post("/setup", anyone, forms::setup)
        .post(
            "/event",
            Access::Needs(Permission::RecordReleaseEvent),
            release_stream::post_event,
        )
        .get("/release.json", anyone, release_stream::release_json)
        .get(
            "/status/{dist}/feed.atom",
            Access::PublicDistOr(Permission::ReadReleaseStream),
            atom_feed::feed,
        )
        .nest("/api/v1", api_v1::routes())
        .map_router(|router| {
            router.layer(axum::middleware::from_fn(json_errors::rejections_as_json))
        })
}
