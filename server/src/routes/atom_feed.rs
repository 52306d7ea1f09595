//! `GET /status/{dist}/feed.atom`: the newest release events of a public dist as an Atom feed,
//! for feed readers and the people who prefer them to webhooks.

use app::backend::registry::stream_dists;
use app::backend::{release_stream::events as release_stream, AppState, Caller};
use app::model::release_stream::ReleaseEvent;
use app::model::time_fmt::rfc3339_millis;
use app::AppError;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;

const ENTRIES: i64 = 50;

pub async fn feed(
    State(state): State<AppState>,
    caller: Result<Caller, AppError>,
    Path(dist): Path<String>,
) -> Result<Response, AppError> {
    let found =
        stream_dists::readable(&state.db, caller.as_ref().ok().map(|c| c.role), &dist).await?;
    let events = release_stream::recent_events(&state.db, &found.dist.name, ENTRIES).await?;
    let base = state.public_url.as_deref().unwrap_or_default();
    let body = render(base, &found.dist.name, &events);
    Ok((
        [(CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The feed document; `base` is the public URL (may be empty: links are then relative).
pub fn render(base: &str, dist: &str, events: &[ReleaseEvent]) -> String {
    let updated = events
        .iter()
        .map(|e| e.recorded_at)
        .max()
        .map(rfc3339_millis)
        .unwrap_or_else(|| rfc3339_millis(0));
    let page = format!("{base}/status/{dist}");
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
         <title>{} release events</title>\n<id>tag:sluice,2026:release-stream:{}</id>\n\
         <updated>{updated}</updated>\n<author><name>Sluice</name></author>\n\
         <link rel=\"alternate\" href=\"{}\"/>\n\
         <link rel=\"self\" href=\"{}/feed.atom\"/>\n",
        escape(dist),
        escape(dist),
        escape(&page),
        escape(&page)
    );
    for e in events {
        let title = format!("{} {} {} {}", dist, e.release, e.action.as_str(), e.state);
        // The feed is public: who recorded an event is not said (names are sign-in names).
        let summary = if e.note.is_empty() {
            e.short()
        } else {
            format!("{}: {}", e.short(), e.note)
        };
        out.push_str(&format!(
            "<entry>\n<title>{}</title>\n<id>tag:sluice,2026:release-event:{}:{}</id>\n\
             <updated>{}</updated>\n<published>{}</published>\n\
             <link rel=\"alternate\" href=\"{}\"/>\n<summary>{}</summary>\n</entry>\n",
            escape(&title),
            escape(dist),
            e.id,
            rfc3339_millis(e.recorded_at),
            rfc3339_millis(e.at),
            escape(&page),
            escape(&summary)
        ));
    }
    out.push_str("</feed>\n");
    out
}
