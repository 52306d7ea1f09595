//! `GET /api/v1/events/stream`: every outbox message as a server-sent event, live. A client
//! that reconnects with `Last-Event-ID` first gets what it missed from the outbox table, so a
//! dropped connection loses nothing. Without signing in, `?dist=` must name a public dist.
//! Access is checked again before every event, so a revoked token or a dist made private ends
//! the stream; anonymous readers get only release-stream messages and are not told who
//! recorded an event. Streams are counted per
//! address and in total (`stream_slots`).

use super::release_stream::{params, Params};
use app::backend::edge::client_address::ClientIp;
use app::backend::messaging::outbox::{self, OutboxMessage};
use app::backend::messaging::stream_slots::StreamSlot;
use app::backend::registry::stream_dists;
use app::backend::{edge::caller, AppState, Caller};
use app::model::Permission;
use app::AppError;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use http::header::AUTHORIZATION;
use http::request::Parts;
use http::HeaderMap;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::{error::RecvError, Receiver};
use tower_sessions::Session;

struct Cursor {
    state: AppState,
    live: Receiver<OutboxMessage>,
    backlog: VecDeque<OutboxMessage>,
    last_id: i64,
    access: Access,
    _slot: StreamSlot,
}

/// What the stream was opened with, to ask again whether it may go on.
struct Access {
    headers: HeaderMap,
    session: Option<Session>,
    address: String,
    dist: Option<String>,
}

impl Access {
    /// Whether the caller may still read this stream, and whether they are signed in.
    async fn check(&self, state: &AppState) -> Result<Option<Caller>, AppError> {
        let caller = caller::resolve(
            &state.db,
            &self.headers,
            self.session.as_ref(),
            &self.address,
        )
        .await?;
        match &self.dist {
            Some(name) => {
                stream_dists::readable(&state.db, caller.as_ref().map(|c| c.role), name).await?;
            }
            None => caller
                .as_ref()
                .ok_or(AppError::Unauthorized)?
                .require(Permission::ReadReleaseStream)?,
        }
        Ok(caller)
    }
}

pub async fn stream(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    parts: Parts,
    query: Params,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let params = params(query)?;
    let access = Access {
        headers: only_credentials(&parts.headers),
        session: parts.extensions.get::<Session>().cloned(),
        address: ip.to_string(),
        dist: params.get("dist").cloned(),
    };
    access.check(&state).await?;
    let slot = state.streams.take(ip)?;
    // Subscribe before reading the backlog, so nothing falls between the two.
    let live = state.outbox.subscribe();
    let resume = parts
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let (backlog, last_id) = match resume {
        Some(id) => (outbox::since(&state.db, id, 1000).await?.into(), id),
        None => (VecDeque::new(), outbox::last_id(&state.db).await?),
    };
    let cursor = Cursor {
        state,
        live,
        backlog,
        last_id,
        access,
        _slot: slot,
    };
    let events = stream::unfold(cursor, |mut cursor| async move {
        loop {
            let message = match cursor.backlog.pop_front() {
                Some(m) => m,
                None => match tokio::select! {
                    received = cursor.live.recv() => received,
                    () = cursor.state.outbox.closed() => return None,
                } {
                    Ok(m) => m,
                    Err(RecvError::Lagged(_)) => {
                        // Too slow for the live feed: catch up from the table.
                        let missed = outbox::since(&cursor.state.db, cursor.last_id, 1000)
                            .await
                            .unwrap_or_default();
                        cursor.backlog.extend(missed);
                        continue;
                    }
                    Err(RecvError::Closed) => return None,
                },
            };
            if message.id <= cursor.last_id {
                continue;
            }
            cursor.last_id = message.id;
            if !is_about(&message, cursor.access.dist.as_deref()) {
                continue;
            }
            let Ok(caller) = cursor.access.check(&cursor.state).await else {
                return None;
            };
            let payload = match caller {
                Some(_) => message.payload.clone(),
                // The public follows a dist's release stream, not its builds and rollouts.
                None if !message.topic.starts_with(outbox::RELEASE_TOPICS) => continue,
                None => without_actor(&message.payload),
            };
            let event = Event::default()
                .id(message.id.to_string())
                .event(message.topic.clone())
                .data(payload);
            return Some((Ok(event), cursor));
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Only the request's credentials are kept for the checks that follow.
fn only_credentials(headers: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    if let Some(value) = headers.get(AUTHORIZATION) {
        kept.insert(AUTHORIZATION, value.clone());
    }
    kept
}

/// The message as the public sees it: who recorded it is left out.
fn without_actor(payload: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(payload) {
        Ok(serde_json::Value::Object(mut fields)) => {
            fields.remove("actor");
            serde_json::Value::Object(fields).to_string()
        }
        _ => payload.to_string(),
    }
}

/// Whether a message concerns `dist` (every message does when no dist is asked for).
fn is_about(message: &OutboxMessage, dist: Option<&str>) -> bool {
    let Some(dist) = dist else { return true };
    serde_json::from_str::<serde_json::Value>(&message.payload)
        .ok()
        .and_then(|v| v.get("dist").and_then(|d| d.as_str()).map(|d| d == dist))
        .unwrap_or(false)
}
