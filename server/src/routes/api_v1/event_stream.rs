//! `GET /api/v1/events/stream`: every outbox message as a server-sent event, live. A client
//! that reconnects with `Last-Event-ID` first gets what it missed from the outbox table, so a
//! dropped connection loses nothing. Without signing in, `?dist=` must name a public dist.

use super::release_stream::{params, readable_dist, Params, READERS};
use app::backend::outbox::{self, OutboxMessage};
use app::backend::{AppState, Caller};
use app::AppError;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use http::HeaderMap;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::{error::RecvError, Receiver};

struct Cursor {
    state: AppState,
    live: Receiver<OutboxMessage>,
    backlog: VecDeque<OutboxMessage>,
    last_id: i64,
    dist: Option<String>,
}

pub async fn stream(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    headers: HeaderMap,
    query: Params,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let params = params(query)?;
    let dist = params.get("dist").cloned();
    match &dist {
        Some(name) => {
            readable_dist(&state, &caller, name).await?;
        }
        None => caller.as_ref().map_err(Clone::clone)?.require(READERS)?,
    }
    // Subscribe before reading the backlog, so nothing falls between the two.
    let live = state.outbox.subscribe();
    let resume = headers
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
        dist,
    };
    let events = stream::unfold(cursor, |mut cursor| async move {
        loop {
            let message = match cursor.backlog.pop_front() {
                Some(m) => m,
                None => match cursor.live.recv().await {
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
            if !is_about(&message, cursor.dist.as_deref()) {
                continue;
            }
            let event = Event::default()
                .id(message.id.to_string())
                .event(message.topic.clone())
                .data(message.payload.clone());
            return Some((Ok(event), cursor));
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Whether a message concerns `dist` (every message does when no dist is asked for).
fn is_about(message: &OutboxMessage, dist: Option<&str>) -> bool {
    let Some(dist) = dist else { return true };
    serde_json::from_str::<serde_json::Value>(&message.payload)
        .ok()
        .and_then(|v| v.get("dist").and_then(|d| d.as_str()).map(|d| d == dist))
        .unwrap_or(false)
}
