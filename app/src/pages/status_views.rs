//! The public views of one dist at a time, beside its status page: one release's history
//! (`/status/{dist}/releases/{release}?at=`) and what changed between two times
//! (`/status/{dist}/diff?from=&to=`). Plain GET forms pick the times, so both work without
//! JavaScript.

use super::status::{AtForm, StateChips};
use crate::api::release_stream::{diff_of, history_of};
use crate::components::error_panel::ErrorPanel;
use crate::components::page_title::PageTitle;
use crate::components::time::Time;
use crate::model::release_stream::ReleaseHistory;
use crate::model::timeline::{Diff, Pair};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn ReleaseHistoryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let p = params.read();
        let q = query.read();
        (
            p.get("dist").unwrap_or_default(),
            p.get("release").unwrap_or_default(),
            q.get("at").unwrap_or_default(),
        )
    };
    let history = Resource::new(key, |(dist, release, at)| history_of(dist, release, at));
    view! {
        <PageTitle text=move || format!("{} {} history", key().0, key().1)/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (dist, _, at) = key();
                match history.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok(h) => view! { <HistoryView dist h at/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn HistoryView(dist: String, h: ReleaseHistory, at: String) -> impl IntoView {
    view! {
        <p class="breadcrumb"><a href=format!("/status/{dist}")>{format!("← {dist}")}</a></p>
        <h1>{format!("{} {}", dist, h.release)}</h1>
        <AtForm action=format!("/status/{dist}/releases/{}", h.release) at/>
        <p>"In at " <Time millis=h.at/> ": "
           {if h.current.is_empty() {
               view! { "no state" }.into_any()
           } else {
               view! { <StateChips states=h.current/> }.into_any()
           }}</p>
        <div class="table-scroll">
            <table class="release-history">
                <thead><tr><th>"State"</th><th>"Entered"</th><th>"Left"</th><th>"Duration"</th></tr></thead>
                <tbody>
                    {h.stays.into_iter().map(|stay| view! {
                        <tr>
                            <td><StateChips states=vec![stay.state]/></td>
                            <td><Time millis=stay.entered_at/></td>
                            <td>{match stay.left_at {
                                Some(left) => view! { <Time millis=left/> }.into_any(),
                                None => "still in it".into_any(),
                            }}</td>
                            <td>{duration(stay.duration_seconds)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// "12 d 3 h", "3 h 5 min", "42 min", "30 s".
fn duration(seconds: i64) -> String {
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[component]
pub fn DiffPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let q = query.read();
        (
            params.read().get("dist").unwrap_or_default(),
            q.get("from").unwrap_or_default(),
            q.get("to").unwrap_or_default(),
        )
    };
    let diff = Resource::new(key, |(dist, from, to)| async move {
        // Nothing to ask before the form names a start.
        if from.is_empty() {
            return Ok(None);
        }
        diff_of(dist, from, to).await.map(Some)
    });
    view! {
        <PageTitle text=move || format!("{}: what changed", key().0)/>
        {move || {
            let (dist, from, to) = key();
            view! {
                <p class="breadcrumb"><a href=format!("/status/{dist}")>{format!("← {dist}")}</a></p>
                <h1>"What changed in " {dist.clone()}</h1>
                <form method="get" action=format!("/status/{dist}/diff") class="filters">
                    <label>"From (RFC 3339)"
                        <input name="from" value=from required placeholder="2021-01-01T00:00:00Z" autocomplete="off"/>
                    </label>
                    <label>"To (empty for now)"
                        <input name="to" value=to placeholder="2021-04-27T14:00:00Z" autocomplete="off"/>
                    </label>
                    <button type="submit">"Show"</button>
                </form>
            }
        }}
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match diff.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok(None) => view! { <p>"Pick the times to compare."</p> }.into_any(),
                    Ok(Some(d)) => view! { <DiffView d/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DiffView(d: Diff<'static>) -> impl IntoView {
    let pairs = |pairs: Vec<Pair<'static>>| {
        if pairs.is_empty() {
            return "none".to_string();
        }
        pairs
            .iter()
            .map(|(release, state)| format!("{release} {state}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <p>"From " <Time millis=d.from/> " to " <Time millis=d.to/> ": "
           {format!("{} transitions.", d.transitions.len())}</p>
        <p class="diff-net">{format!("Entered: {}. Left: {}.", pairs(d.entered), pairs(d.left))}</p>
        <div class="table-scroll">
            <table class="release-diff">
                <thead><tr><th>"When"</th><th>"Release"</th><th>"State"</th><th>"Change"</th></tr></thead>
                <tbody>
                    {d.transitions.into_iter().map(|t| view! {
                        <tr>
                            <td><Time millis=t.at/></td>
                            <td>{t.release.into_owned()}</td>
                            <td><StateChips states=vec![t.state.into_owned()]/></td>
                            <td>{t.action.as_str()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_in_the_largest_units() {
        assert_eq!(duration(30), "30 s");
        assert_eq!(duration(42 * 60), "42 min");
        assert_eq!(duration(3 * 3_600 + 5 * 60), "3 h 5 min");
        assert_eq!(duration(12 * 86_400 + 3 * 3_600 + 59), "12 d 3 h");
    }
}
