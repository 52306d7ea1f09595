//! The release stream in the database: events are appended, never edited; each write rebuilds
//! the spans of its (release, state) pair in the same transaction, so every view at any time is
//! made from the spans (see `timeline_cache`) and never from a replay of the stream.

use crate::backend::infra::audit::{self, Actor};
use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::{values_list, Backend, Db};
use crate::backend::messaging::outbox;
use crate::backend::registry::stream_dists;
use crate::error::AppError;
use crate::model::release_stream::{
    fold_pair, Action, NewReleaseEvent, PairEvent, ReleaseEvent, Span,
};
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// Appends one event, rebuilds its pair's spans, queues its message, all in one transaction.
/// Answers the dist's id and the stored event. Callers go through `release_views::record`,
/// which also tells this replica's timeline cache.
#[tracing::instrument(skip_all)]
pub async fn record(
    db: &Db,
    actor: &Actor,
    new: &NewReleaseEvent,
) -> Result<(i64, ReleaseEvent), AppError> {
    new.check()?;
    let recorded_at = now_millis();
    let at = new.at.unwrap_or(recorded_at);
    let mut tx = db.begin().await?;
    let (dist_id, created) = stream_dists::ensure(&mut tx, &new.dist).await?;
    if created {
        audit::record(
            &mut tx,
            actor,
            "dist.create",
            &new.dist,
            "by its first release event",
        )
        .await?;
    }
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO release_events (dist_id, release_name, state, entered, at, recorded_at, actor, note, was_in_state) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0) RETURNING id",
    )
    .bind(dist_id)
    .bind(&new.release)
    .bind(&new.state)
    .bind(i64::from(new.action == Action::Entered))
    .bind(at)
    .bind(recorded_at)
    .bind(&actor.name)
    .bind(&new.note)
    .fetch_one(&mut *tx)
    .await
    ?;
    let was = rebuild_pair(&mut tx, dist_id, &new.release, &new.state, Some(id)).await?;
    sqlx::query("UPDATE release_events SET was_in_state = $1 WHERE id = $2")
        .bind(i64::from(was))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let event = ReleaseEvent {
        id,
        dist: new.dist.clone(),
        release: new.release.clone(),
        state: new.state.clone(),
        action: new.action,
        at,
        recorded_at,
        actor: actor.name.clone(),
        note: new.note.clone(),
        was_in_state: was,
    };
    audit::record(
        &mut tx,
        actor,
        &format!("release.{}", new.action.as_str()),
        &format!("{}/{}", new.dist, new.release),
        &format!("{} ({})", event.short(), new.note),
    )
    .await?;
    outbox::enqueue(&mut tx, &outbox::release_topic(event.action), &event).await?;
    crate::backend::release_stream::rules::fire(&mut tx, dist_id, &event).await?;
    tx.commit().await?;
    Ok((dist_id, event))
}

/// Replays one pair's events (a handful) into its spans; returns `was_in_state` for `event`.
async fn rebuild_pair(
    conn: &mut AnyConnection,
    dist_id: i64,
    release: &str,
    state: &str,
    event: Option<i64>,
) -> Result<bool, AppError> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT id, entered, at FROM release_events \
         WHERE dist_id = $1 AND release_name = $2 AND state = $3 ORDER BY at, id",
    )
    .bind(dist_id)
    .bind(release)
    .bind(state)
    .fetch_all(&mut *conn)
    .await?;
    let events: Vec<PairEvent> = rows.iter().map(|r| pair_event(r.1, r.2)).collect();
    let (was, spans) = fold_pair(release, state, &events);
    sqlx::query(
        "DELETE FROM release_state_spans WHERE dist_id = $1 AND release_name = $2 AND state = $3",
    )
    .bind(dist_id)
    .bind(release)
    .bind(state)
    .execute(&mut *conn)
    .await?;
    insert_spans(conn, dist_id, &spans).await?;
    Ok(event
        .and_then(|id| rows.iter().position(|r| r.0 == id))
        .map(|i| was[i])
        .unwrap_or(false))
}

fn pair_event(entered: i64, at: i64) -> PairEvent {
    PairEvent {
        action: if entered != 0 {
            Action::Entered
        } else {
            Action::Left
        },
        at,
    }
}

/// Multi-row inserts: an import rebuilds thousands of spans at once.
async fn insert_spans(
    conn: &mut AnyConnection,
    dist_id: i64,
    spans: &[Span],
) -> Result<(), sqlx::Error> {
    for chunk in spans.chunks(200) {
        let mut sql = String::from(
            "INSERT INTO release_state_spans (dist_id, release_name, state, entered_at, left_at) VALUES ",
        );
        sql.push_str(&values_list(Backend::of(conn), chunk.len(), 5));
        let mut query = sqlx::query(&sql);
        for span in chunk {
            query = query
                .bind(dist_id)
                .bind(&span.release)
                .bind(&span.state)
                .bind(span.entered_at)
                .bind(span.left_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SpanRow {
    release_name: String,
    state: String,
    entered_at: i64,
    left_at: Option<i64>,
}

fn span_from_row(row: SpanRow) -> Span {
    Span {
        release: row.release_name,
        state: row.state,
        entered_at: row.entered_at,
        left_at: row.left_at,
    }
}

const SPAN_COLUMNS: &str = "s.release_name, s.state, s.entered_at, s.left_at";

/// Every span of a dist, by entry time (the views and the timeline chart).
#[tracing::instrument(skip_all)]
pub async fn spans_of_dist(db: &Db, dist_id: i64) -> Result<Vec<Span>, sqlx::Error> {
    let rows: Vec<SpanRow> = sqlx::query_as(&format!(
        "SELECT {SPAN_COLUMNS} FROM release_state_spans s WHERE s.dist_id = $1 \
         ORDER BY s.entered_at, s.id"
    ))
    .bind(dist_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(span_from_row).collect())
}

/// The ids of the dists that have release events (device-only dists have none).
#[tracing::instrument(skip_all)]
pub async fn stream_dist_ids(db: &Db) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT d.id FROM dists d \
         WHERE EXISTS (SELECT 1 FROM release_events e WHERE e.dist_id = d.id) ORDER BY d.id",
    )
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Whether any event names this release (a release may have events but no stay: "0-0").
#[tracing::instrument(skip_all)]
pub async fn has_release(db: &Db, dist_id: i64, release: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM release_events WHERE dist_id = $1 AND release_name = $2 LIMIT 1",
    )
    .bind(dist_id)
    .bind(release)
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.is_some())
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    dist: String,
    release_name: String,
    state: String,
    entered: i64,
    at: i64,
    recorded_at: i64,
    actor: String,
    note: String,
    was_in_state: i64,
}
const EVENT_COLUMNS: &str = "e.id, d.name AS dist, e.release_name, e.state, e.entered, e.at, \
                             e.recorded_at, e.actor, e.note, e.was_in_state";

fn event_from_row(
    EventRow {
        id,
        dist,
        release_name: release,
        state,
        entered,
        at,
        recorded_at,
        actor,
        note,
        was_in_state: was,
    }: EventRow,
) -> ReleaseEvent {
    ReleaseEvent {
        id,
        dist,
        release,
        state,
        action: pair_event(entered, at).action,
        at,
        recorded_at,
        actor,
        note,
        was_in_state: was != 0,
    }
}

/// Events after `since` in stream order, at most `limit`, optionally of one dist.
#[tracing::instrument(skip_all)]
pub async fn events_since(
    db: &Db,
    since: i64,
    limit: i64,
    dist: Option<&str>,
) -> Result<Vec<ReleaseEvent>, AppError> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM release_events e JOIN dists d ON d.id = e.dist_id \
         WHERE e.id > $1 AND ($2 IS NULL OR d.name = $2) ORDER BY e.id LIMIT $3"
    ))
    .bind(since)
    .bind(dist)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(event_from_row).collect())
}

/// The newest events of a dist, newest first (the console's "who did what").
#[tracing::instrument(skip_all)]
pub async fn recent_events(db: &Db, dist: &str, limit: i64) -> Result<Vec<ReleaseEvent>, AppError> {
    let rows: Vec<EventRow> = sqlx::query_as(&format!(
        "SELECT {EVENT_COLUMNS} FROM release_events e JOIN dists d ON d.id = e.dist_id \
         WHERE d.name = $1 ORDER BY e.id DESC LIMIT $2"
    ))
    .bind(dist)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(event_from_row).collect())
}

/// Appends exported events as they were (times, actor, note, `was_in_state`), in one
/// transaction, then rebuilds the spans of every dist they touch. Imported events are history:
/// they are not published again.
#[tracing::instrument(skip_all)]
pub async fn import(
    db: &Db,
    actor: &Actor,
    events: &[ReleaseEvent],
    mut progress: impl FnMut(usize),
) -> Result<usize, AppError> {
    let mut tx = db.begin().await?;
    let mut dist_ids: BTreeMap<String, i64> = BTreeMap::new();
    for event in events {
        if !dist_ids.contains_key(&event.dist) {
            let (id, _) = stream_dists::ensure(&mut tx, &event.dist).await?;
            dist_ids.insert(event.dist.clone(), id);
        }
    }
    let recorded_now = now_millis();
    let mut done = 0;
    for chunk in events.chunks(100) {
        let mut sql = String::from(
            "INSERT INTO release_events (dist_id, release_name, state, entered, at, recorded_at, actor, note, was_in_state) VALUES ",
        );
        sql.push_str(&values_list(db.backend(), chunk.len(), 9));
        let mut query = sqlx::query(&sql);
        for e in chunk {
            let recorded_at = if e.recorded_at > 0 {
                e.recorded_at
            } else {
                recorded_now
            };
            query = query
                .bind(dist_ids[&e.dist])
                .bind(&e.release)
                .bind(&e.state)
                .bind(i64::from(e.action == Action::Entered))
                .bind(e.at)
                .bind(recorded_at)
                .bind(&e.actor)
                .bind(&e.note)
                .bind(i64::from(e.was_in_state));
        }
        query.execute(&mut *tx).await?;
        done += chunk.len();
        progress(done);
    }
    for dist_id in dist_ids.values() {
        rebuild_dist(&mut tx, *dist_id).await?;
    }
    audit::record(
        &mut tx,
        actor,
        "release.import",
        &dist_ids.keys().cloned().collect::<Vec<_>>().join(","),
        &format!("{} events", events.len()),
    )
    .await?;
    tx.commit().await?;
    Ok(events.len())
}

/// Rebuilds every span of a dist from its events, in one pass over them.
async fn rebuild_dist(conn: &mut AnyConnection, dist_id: i64) -> Result<(), AppError> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT release_name, state, entered, at FROM release_events \
         WHERE dist_id = $1 ORDER BY release_name, state, at, id",
    )
    .bind(dist_id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM release_state_spans WHERE dist_id = $1")
        .bind(dist_id)
        .execute(&mut *conn)
        .await?;
    let mut spans = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let (release, state) = (&rows[start].0, &rows[start].1);
        let end = rows[start..]
            .iter()
            .position(|r| &r.0 != release || &r.1 != state)
            .map_or(rows.len(), |n| start + n);
        let events: Vec<PairEvent> = rows[start..end]
            .iter()
            .map(|r| pair_event(r.2, r.3))
            .collect();
        spans.extend(fold_pair(release, state, &events).1);
        start = end;
    }
    Ok(insert_spans(conn, dist_id, &spans).await?)
}
