//! The release stream outside `/api/v1`: the ticket's own `POST /event` form, kept exactly,
//! and the public `GET /release.json` that fedfind and other tools read.

use super::api_v1::release_stream::{params, time_param, Params};
use app::backend::infra::clock::now_millis;
use app::backend::{release_stream::views as release_views, AppState, Caller};
use app::model::release_stream::{parse_time_field, Action, NewReleaseEvent, ReleaseEvent};
use app::AppError;
use axum::extract::State;
use axum::Json;
use http::StatusCode;

/// `POST /event?dist=fedora&release=34&state=branched&reached=1` (`reached=0` to leave).
pub async fn post_event(
    State(state): State<AppState>,
    caller: Caller,
    query: Params,
) -> Result<(StatusCode, Json<ReleaseEvent>), AppError> {
    let query = params(query)?;
    let field = |name: &'static str| {
        query
            .get(name)
            .cloned()
            .ok_or_else(|| AppError::validation(name, "is required"))
    };
    let reached = field("reached")?;
    let action = Action::from_reached(&reached)
        .ok_or_else(|| AppError::validation("reached", "must be 1 (entered) or 0 (left)"))?;
    let at = query
        .get("at")
        .map(|t| parse_time_field("at", t))
        .transpose()?;
    let new = NewReleaseEvent {
        dist: field("dist")?,
        release: field("release")?,
        state: field("state")?,
        action,
        at,
        note: query.get("note").cloned().unwrap_or_default(),
    };
    let event = release_views::record(
        &state.db,
        &state.timelines,
        &state.outbox,
        &caller.actor(),
        &new,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(event)))
}

/// `GET /release.json`: `{"fedora":{"stable":[32,33],"branched":[34]}, …}`, public dists only;
/// `?at=` answers as of that time.
pub async fn release_json(
    State(state): State<AppState>,
    query: Params,
) -> Result<Json<serde_json::Value>, AppError> {
    let at = time_param(&params(query)?, "at", now_millis())?;
    Ok(Json(
        release_views::release_json(&state.db, &state.timelines, at).await?,
    ))
}
