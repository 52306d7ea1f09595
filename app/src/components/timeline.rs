//! The timeline chart of the status page: one row per release and state, coloured spans over
//! time, as plain inline SVG (readable without JavaScript, no chart library).

use crate::model::release_stream::{release_cmp, Span};
use crate::model::time_fmt::format_millis;
use leptos::prelude::*;

const WIDTH: f64 = 960.0;
const LABEL: f64 = 170.0;
const ROW: f64 = 20.0;
const AXIS: f64 = 24.0;
const PALETTE: [&str; 8] = [
    "#2f6fb0", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#16a085", "#7f8c8d", "#b03a6f",
];

/// A stable colour per state name, so "branched" looks the same on every row and every load.
pub fn state_colour(state: &str) -> &'static str {
    let hash = state
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    PALETTE[hash as usize % PALETTE.len()]
}

#[component]
pub fn Timeline(spans: Vec<Span>, since: i64, now: i64) -> impl IntoView {
    if spans.is_empty() {
        return view! { <p>"No release has entered a state yet."</p> }.into_any();
    }
    let start = spans
        .iter()
        .map(|s| s.entered_at)
        .min()
        .unwrap_or(now)
        .max(since);
    let end = now.max(start + 1);
    // A stay that began before the window is drawn from its left edge.
    let x = move |t: i64| {
        LABEL + (WIDTH - LABEL - 8.0) * ((t.max(start) - start) as f64 / (end - start) as f64)
    };
    let mut rows: Vec<(String, String)> = spans
        .iter()
        .map(|s| (s.release.clone(), s.state.clone()))
        .collect();
    rows.sort_by(|a, b| release_cmp(&a.0, &b.0).then_with(|| a.1.cmp(&b.1)));
    rows.dedup();
    let height = AXIS + ROW * rows.len() as f64 + 4.0;
    let row_of = |span: &Span| {
        rows.iter()
            .position(|r| r.0 == span.release && r.1 == span.state)
            .unwrap_or(0)
    };
    let bars = spans
        .iter()
        .map(|span| {
            let y = AXIS + ROW * row_of(span) as f64 + 3.0;
            let x0 = x(span.entered_at);
            let x1 = x(span.left_at.unwrap_or(end)).max(x0 + 2.0);
            let title = format!(
                "{} {}: {} → {}",
                span.release,
                span.state,
                format_millis(span.entered_at),
                span.left_at
                    .map(format_millis)
                    .unwrap_or_else(|| "now".into())
            );
            view! {
                <rect x=format!("{x0:.1}") y=format!("{y:.1}") width=format!("{:.1}", x1 - x0)
                      height=format!("{:.1}", ROW - 6.0) rx="3" fill=state_colour(&span.state)>
                    <title>{title}</title>
                </rect>
            }
        })
        .collect_view();
    let labels = rows
        .iter()
        .enumerate()
        .map(|(i, (release, state))| {
            let y = AXIS + ROW * i as f64 + ROW * 0.7;
            view! { <text x="4" y=format!("{y:.1}") class="timeline-label">{format!("{release} · {state}")}</text> }
        })
        .collect_view();
    view! {
        <figure class="timeline">
            <svg viewBox=format!("0 0 {WIDTH} {height:.0}") role="img"
                 aria-label="Timeline of releases and their states">
                <text x=format!("{LABEL}") y="14" class="timeline-axis">{format_millis(start)}</text>
                <text x=format!("{}", WIDTH - 8.0) y="14" text-anchor="end" class="timeline-axis">"now"</text>
                {labels}
                {bars}
            </svg>
        </figure>
    }
    .into_any()
}
