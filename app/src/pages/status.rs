//! The public release status pages (no sign-in): `/status` lists the public dists,
//! `/status/{dist}` shows each release's states now and the timeline, and follows the live
//! stream so it changes as events are recorded. Without JavaScript it is the same page, as of
//! its loading.

use crate::api::release_stream::{public_dists, status_of};
use crate::components::error_panel::ErrorPanel;
use crate::components::live::follow_dist;
use crate::components::page_title::PageTitle;
use crate::components::timeline::{state_colour, Timeline};
use crate::model::release_stream::StatusPageData;
use crate::model::time_fmt::{format_millis, rfc3339_millis};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn StatusIndexPage() -> impl IntoView {
    let dists = Resource::new(|| (), |_| public_dists());
    view! {
        <PageTitle text="Release status"/>
        <h1>"Release status"</h1>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match dists.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok(dists) if dists.is_empty() => view! { <p>"No dist is public yet."</p> }.into_any(),
                    Ok(dists) => view! {
                        <ul class="status-dists">
                            {dists.into_iter().map(|d| view! {
                                <li><a href=format!("/status/{}", d.name)>{d.name.clone()}</a></li>
                            }).collect_view()}
                        </ul>
                        <p><a href="/release.json">"release.json"</a></p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn StatusPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let dist = move || params.read().get("dist").unwrap_or_default();
    let at = move || query.read().get("at").unwrap_or_default();
    let status = Resource::new(move || (dist(), at()), |(dist, at)| status_of(dist, at));
    follow_dist(
        params.read_untracked().get("dist").unwrap_or_default(),
        move || status.refetch(),
    );
    view! {
        <PageTitle text=move || format!("{} release status", dist())/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok(data) => view! { <StatusView data=data/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The states of every release at a time (now unless `?at=` asks), by release and by state,
/// and the timeline.
#[component]
pub fn StatusView(data: StatusPageData) -> impl IntoView {
    let name = data.dist.name.clone();
    let is_now = data.at == data.now;
    let heading = if is_now {
        "Now".to_string()
    } else {
        format!("At {}", format_millis(data.at))
    };
    view! {
        <p class="breadcrumb"><a href="/status">"Release status"</a></p>
        <h1>{name.clone()}</h1>
        <p>
            <a href=format!("/status/{name}/feed.atom")>"Atom feed"</a> " · "
            <a href=format!("/api/v1/dists/{name}/states-by-release")>"JSON"</a> " · "
            <a href=format!("/status/{name}/diff")>"What changed"</a>
        </p>
        <AtForm action=format!("/status/{name}")
                at=if is_now { String::new() } else { rfc3339_millis(data.at) }/>
        <h2>{heading}</h2>
        {if data.states_by_release.is_empty() {
            view! { <p>"No release is in any state."</p> }.into_any()
        } else {
            let at_query = if is_now { String::new() } else { format!("?at={}", rfc3339_millis(data.at)) };
            view! {
                <table class="release-states">
                    <thead><tr><th>"Release"</th><th>"States"</th></tr></thead>
                    <tbody>
                        {data.states_by_release.into_iter().map(|(release, states)| {
                            let label = if release == "0" { "0 (rolling)".to_string() } else { release.clone() };
                            let href = format!("/status/{name}/releases/{release}{at_query}");
                            view! {
                                <tr data-release=release.clone()>
                                    <th scope="row"><a href=href>{label}</a></th>
                                    <td><StateChips states/></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <h3>"By state"</h3>
                <table class="releases-by-state">
                    <thead><tr><th>"State"</th><th>"Releases"</th></tr></thead>
                    <tbody>
                        {data.releases_by_state.into_iter().map(|(state, releases)| view! {
                            <tr data-state=state.clone()>
                                <th scope="row"><StateChips states=vec![state.clone()]/></th>
                                <td>{releases.join(", ")}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <h2>"Timeline"</h2>
        <Timeline spans=data.spans since=data.since now=data.now/>
    }
}

/// A plain GET form that asks for a view at a time (`?at=`), so it works without JavaScript.
#[component]
pub fn AtForm(action: String, at: String) -> impl IntoView {
    view! {
        <form method="get" action=action class="filters">
            <label>"At (RFC 3339; empty for now)"
                <input name="at" value=at placeholder="2021-04-27T14:00:00Z" autocomplete="off"/>
            </label>
            <button type="submit">"Show"</button>
        </form>
    }
}

/// State names as coloured chips, the colours of the timeline.
#[component]
pub fn StateChips(states: Vec<String>) -> impl IntoView {
    states
        .into_iter()
        .map(|s| {
            view! {
                <span class="state-chip" style=format!("--chip: {}", state_colour(&s))>{s.clone()}</span> " "
            }
        })
        .collect_view()
}
