//! `/api/v1`: the REST API for scripts and CI. Each route names who may call it.

mod accounts;
mod devices;
mod event_stream;
mod registry;
pub mod release_stream;
mod rollouts;
mod rules;
mod webhooks;

use super::endpoints::Routes;
use app::model::{Access, Permission};
use app::AppError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::Json;
use serde::de::DeserializeOwned;

pub fn routes() -> Routes {
    use Permission::*;
    let signed_in = Access::SignedIn;
    let needs = Access::Needs;
    let public_or_reader = Access::PublicDistOr(ReadReleaseStream);
    Routes::default()
        .get("/me", signed_in, accounts::me)
        .get("/users", needs(ManageUsers), accounts::list_users)
        .post("/users", needs(ManageUsers), accounts::create_user)
        .get("/tokens", needs(ManageTokens), accounts::list_tokens)
        .post("/tokens", needs(ManageTokens), accounts::create_token)
        .get("/audit", needs(ReadAudit), accounts::list_audit)
        .get("/dists", needs(ReadRegistry), registry::list_dists)
        .post("/dists", needs(ManageDists), registry::create_dist)
        .get(
            "/dists/{dist}/mirrors",
            needs(ReadRegistry),
            registry::list_mirrors,
        )
        .post(
            "/dists/{dist}/mirrors",
            needs(ManageMirrors),
            registry::add_mirror,
        )
        .put(
            "/dists/{dist}/report-key",
            needs(ManageDists),
            registry::set_report_key,
        )
        .delete(
            "/dists/{dist}/mirrors/{id}",
            needs(ManageMirrors),
            registry::remove_mirror,
        )
        .get(
            "/dists/{dist}/versions",
            needs(ReadDevices),
            devices::version_counts,
        )
        .get("/dists/{dist}/devices", needs(ReadDevices), devices::search)
        .get(
            "/dists/{dist}/devices/{uuid}",
            needs(ReadDevices),
            devices::history,
        )
        .get("/builds", needs(ReadRegistry), registry::list_builds)
        .post("/builds", needs(RegisterBuild), registry::register_build)
        .get("/builds/{id}", needs(ReadRegistry), registry::build_detail)
        .post(
            "/builds/{id}/withdraw",
            needs(WithdrawBuild),
            registry::withdraw_build,
        )
        .post(
            "/channels/{dist}/{channel}/publish",
            needs(PublishBuild),
            registry::publish,
        )
        .get("/rollouts", needs(ReadRollouts), rollouts::list)
        .post("/rollouts", needs(SteerRollout), rollouts::create)
        .get("/rollouts/{id}", needs(ReadRollouts), rollouts::view)
        .get(
            "/rollouts/{id}/history",
            needs(ReadRollouts),
            rollouts::history,
        )
        .get(
            "/rollouts/{id}/bucket",
            needs(ReadRollouts),
            rollouts::bucket,
        )
        .post(
            "/rollouts/{id}/{action}",
            needs(SteerRollout),
            rollouts::steer,
        )
        .get(
            "/events",
            needs(ReadReleaseStream),
            release_stream::list_events,
        )
        .post(
            "/events",
            needs(RecordReleaseEvent),
            release_stream::post_event,
        )
        .get("/events/stream", public_or_reader, event_stream::stream)
        .get(
            "/release-dists",
            public_or_reader,
            release_stream::list_dists,
        )
        .get(
            "/dists/{dist}/states-by-release",
            public_or_reader,
            release_stream::states_by_release,
        )
        .get(
            "/dists/{dist}/releases-by-state",
            public_or_reader,
            release_stream::releases_by_state,
        )
        .get(
            "/dists/{dist}/releases/{release}/history",
            public_or_reader,
            release_stream::history,
        )
        .get("/dists/{dist}/diff", public_or_reader, release_stream::diff)
        .put(
            "/dists/{dist}/release-settings",
            needs(ConfigureReleaseStream),
            release_stream::set_settings,
        )
        .get("/rules", needs(ManageReleaseRules), rules::list)
        .post("/rules", needs(ManageReleaseRules), rules::create)
        .delete("/rules/{id}", needs(ManageReleaseRules), rules::remove)
        .get("/webhooks", needs(ManageWebhooks), webhooks::list)
        .post("/webhooks", needs(ManageWebhooks), webhooks::create)
        .put(
            "/webhooks/{id}/active",
            needs(ManageWebhooks),
            webhooks::set_active,
        )
        .get(
            "/webhooks/{id}/deliveries",
            needs(ManageWebhooks),
            webhooks::deliveries,
        )
        .post(
            "/webhooks/deliveries/{id}/redeliver",
            needs(ManageWebhooks),
            webhooks::redeliver,
        )
        .map_router(|router| router.fallback(not_found))
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
