//! The release stream over the API: record events, read the views (each at `?at=`), export the
//! stream, and the public face of a dist. Public dists are readable without signing in; the
//! others need a reader role.

use app::backend::registry::stream_dists;
use app::backend::registry::stream_dists::DistRef;
use app::backend::release_stream::events as release_stream;
use app::backend::{release_stream::views as release_views, AppState, Caller};
use app::model::release_stream::{
    parse_time_field, Action, NewReleaseEvent, OrderedMap, ReleaseEvent, ReleaseHistory,
    StreamDist, StreamDistSettings,
};
use app::model::Permission;
use app::AppError;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::{header, StatusCode};
use serde_json::Value;
use std::collections::HashMap;

const PAGE_MAX: i64 = 1000;

pub type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

pub fn params(query: Params) -> Result<HashMap<String, String>, AppError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| AppError::validation("query", e.body_text()))
}

/// An optional RFC 3339 time parameter, now when absent.
pub fn time_param(
    params: &HashMap<String, String>,
    name: &'static str,
    default: i64,
) -> Result<i64, AppError> {
    match params.get(name) {
        Some(text) => Ok(parse_time_field(name, text)?),
        None => Ok(default),
    }
}

/// The dist, if this caller may read it (see `stream_dists::readable`).
pub async fn readable_dist(
    state: &AppState,
    caller: &Result<Caller, AppError>,
    name: &str,
) -> Result<DistRef, AppError> {
    stream_dists::readable(&state.db, caller.as_ref().ok().map(|c| c.role), name).await
}

/// What every "at a time" view starts with: the dist, if this caller may read it, and the time
/// asked for (`?at=`, default now).
async fn view_at(
    state: &AppState,
    caller: &Result<Caller, AppError>,
    dist: &str,
    query: Params,
) -> Result<(DistRef, i64), AppError> {
    let params = params(query)?;
    let dist = readable_dist(state, caller, dist).await?;
    let at = time_param(&params, "at", app::backend::infra::clock::now_millis())?;
    Ok((dist, at))
}

/// `POST /api/v1/events`. The body is read by hand so each problem names its field.
pub async fn post_event(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<ReleaseEvent>), AppError> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| AppError::validation("body", format!("not JSON: {e}")))?;
    let new = new_event_from_json(&body)?;
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

fn new_event_from_json(body: &Value) -> Result<NewReleaseEvent, AppError> {
    let text = |name: &'static str, required: bool| -> Result<Option<String>, AppError> {
        match body.get(name) {
            None | Some(Value::Null) if required => Err(AppError::validation(name, "is required")),
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            // Releases are often numbers in people's heads: 34 means "34".
            Some(Value::Number(n)) if name == "release" => Ok(Some(n.to_string())),
            Some(_) => Err(AppError::validation(name, "must be a string")),
        }
    };
    let required = |name: &'static str| -> Result<String, AppError> {
        text(name, true).map(Option::unwrap_or_default)
    };
    let action = required("action")?;
    let action = Action::parse(&action)
        .ok_or_else(|| AppError::validation("action", "must be \"entered\" or \"left\""))?;
    let at = text("at", false)?
        .map(|t| parse_time_field("at", &t))
        .transpose()?;
    Ok(NewReleaseEvent {
        dist: required("dist")?,
        release: required("release")?,
        state: required("state")?,
        action,
        at,
        note: text("note", false)?.unwrap_or_default(),
    })
}

/// `GET /api/v1/events?since=ID&limit=N&dist=D`, or `format=jsonl` for the whole stream.
pub async fn list_events(
    State(state): State<AppState>,
    _caller: Caller,
    query: Params,
) -> Result<Response, AppError> {
    let params = params(query)?;
    let since = match params.get("since") {
        Some(s) => s
            .parse::<i64>()
            .map_err(|_| AppError::validation("since", "must be an event id"))?,
        None => 0,
    };
    let dist = params.get("dist").map(String::as_str);
    match params.get("format").map(String::as_str) {
        None | Some("json") => {
            let limit = match params.get("limit") {
                Some(l) => l
                    .parse::<i64>()
                    .ok()
                    .filter(|l| (1..=PAGE_MAX).contains(l))
                    .ok_or_else(|| {
                        AppError::validation("limit", format!("must be 1 to {PAGE_MAX}"))
                    })?,
                None => PAGE_MAX,
            };
            let events = release_stream::events_since(&state.db, since, limit, dist).await?;
            Ok(Json(events).into_response())
        }
        Some("jsonl") => {
            let mut out = String::new();
            let mut after = since;
            loop {
                let page = release_stream::events_since(&state.db, after, 10_000, dist).await?;
                let Some(last) = page.last() else { break };
                after = last.id;
                for event in &page {
                    out.push_str(&serde_json::to_string(event).map_err(|_| AppError::Internal)?);
                    out.push('\n');
                }
            }
            Ok((
                [(header::CONTENT_TYPE, "application/x-ndjson")],
                Body::from(out),
            )
                .into_response())
        }
        Some(_) => Err(AppError::validation("format", "must be json or jsonl")),
    }
}

/// `GET /api/v1/release-dists`: the dists of the stream this caller may read.
pub async fn list_dists(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
) -> Result<Json<Vec<StreamDist>>, AppError> {
    let only_public = !matches!(&caller, Ok(c) if c.role.may(Permission::ReadReleaseStream));
    Ok(Json(
        stream_dists::list_dists(&state.db, only_public).await?,
    ))
}

pub async fn states_by_release(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(dist): Path<String>,
    query: Params,
) -> Result<Json<OrderedMap>, AppError> {
    let (dist, at) = view_at(&state, &caller, &dist, query).await?;
    Ok(Json(
        release_views::states_by_release(&state.db, &state.timelines, &dist, at).await?,
    ))
}

pub async fn releases_by_state(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(dist): Path<String>,
    query: Params,
) -> Result<Json<OrderedMap>, AppError> {
    let (dist, at) = view_at(&state, &caller, &dist, query).await?;
    Ok(Json(
        release_views::releases_by_state(&state.db, &state.timelines, &dist, at).await?,
    ))
}

pub async fn history(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path((dist, release)): Path<(String, String)>,
    query: Params,
) -> Result<Json<ReleaseHistory>, AppError> {
    let (dist, at) = view_at(&state, &caller, &dist, query).await?;
    Ok(Json(
        release_views::history(&state.db, &state.timelines, &dist, &release, at).await?,
    ))
}

pub async fn diff(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(dist): Path<String>,
    query: Params,
) -> Result<Response, AppError> {
    let params = params(query)?;
    let dist = readable_dist(&state, &caller, &dist).await?;
    if !params.contains_key("from") {
        return Err(AppError::validation("from", "is required"));
    }
    let now = app::backend::infra::clock::now_millis();
    let from = time_param(&params, "from", now)?;
    let to = time_param(&params, "to", now)?;
    let body = release_views::diff_json(&state.db, &state.timelines, &dist, from, to).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `PUT /api/v1/dists/{dist}/release-settings` (admin): public or not, and the state names
/// `release.json` lists as "stable" and "branched".
pub async fn set_settings(
    State(state): State<AppState>,
    caller: Caller,
    Path(dist): Path<String>,
    super::ApiJson(settings): super::ApiJson<StreamDistSettings>,
) -> Result<Json<StreamDist>, AppError> {
    Ok(Json(
        stream_dists::set_settings(&state.db, &caller.actor(), &dist, &settings).await?,
    ))
}
