//! `/builds/{id}`: one build, its files, where devices download it, how devices fare with it,
//! and for release managers the two decisions: publish it to stable, or withdraw it.

use super::dists::current_role;
use crate::api::registry::{build_with_dist, PublishBuild, WithdrawBuild};
use crate::components::error_panel::{ErrorPanel, FormError};
use crate::components::page_title::PageTitle;
use crate::components::time::Time;
use crate::error::AppError;
use crate::model::catalog::BuildFile;
use crate::model::dist::{BuildDetail, DistView};
use crate::model::Permission;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

async fn load(id: Option<i64>) -> Result<(BuildDetail, DistView), AppError> {
    let Some(id) = id else {
        return Err(not_found());
    };
    build_with_dist(id).await
}

/// A path like `/builds/abc` names no build; the page says so with status 404.
fn not_found() -> AppError {
    let error = AppError::not_found("build");
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
    }
    error
}

#[component]
pub fn BuildPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok());
    let publish = ServerAction::<PublishBuild>::new();
    let withdraw = ServerAction::<WithdrawBuild>::new();
    let page = Resource::new(
        move || (id(), publish.version().get(), withdraw.version().get()),
        |(id, _, _)| load(id),
    );
    let action_error = move || {
        [
            publish.value().get().and_then(|r| r.err()),
            withdraw.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
    };

    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let role = current_role().await;
                match page.await {
                    Err(error) => view! { <PageTitle text="Build"/> <ErrorPanel error=error/> }.into_any(),
                    Ok((detail, dist)) => {
                        let may_decide = role.is_some_and(|r| r.may(Permission::PublishBuild));
                        view! {
                            <PageTitle text=detail.build.version.clone()/>
                            <BuildSummary detail=detail.clone() dist=dist.clone()/>
                            {move || action_error().map(|error| view! { <FormError error=error/> })}
                            {may_decide.then(|| view! {
                                <Decisions detail=detail.clone() dist=dist publish=publish withdraw=withdraw/>
                            })}
                            <BuildFiles detail=detail/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn BuildSummary(detail: BuildDetail, dist: DistView) -> impl IntoView {
    let build = detail.build;
    let channels = if build.channels.is_empty() {
        "not published".to_string()
    } else {
        build.channels.join(", ")
    };
    view! {
        <p class="breadcrumb">
            <a href="/dists">"Dists"</a> " / " <a href=format!("/dists/{}", dist.name)>{dist.name.clone()}</a>
        </p>
        <h1>"Build " {build.version.clone()}</h1>
        {build.withdrawn_at.map(|at| view! {
            <p class="notice warning" role="status">"Withdrawn " <Time millis=at/> ": no device is offered this build."</p>
        })}
        <dl class="facts">
            <dt>"Dist"</dt><dd><a href=format!("/dists/{}", dist.name)>{dist.name.clone()}</a></dd>
            <dt>"Branch"</dt><dd>{build.branch.clone()}</dd>
            <dt>"Version"</dt><dd>{build.version.clone()}</dd>
            <dt>"Channels"</dt><dd>{channels}</dd>
            <dt>"Base URL"</dt><dd><code class="wrap">{build.base_url.clone()}</code></dd>
            <dt>"Registered"</dt><dd><Time millis=build.created_at/> " by " {build.registered_by.clone()}</dd>
            <dt>"Devices on it"</dt><dd>{detail.devices_on_it}</dd>
            <dt>"Reports"</dt>
            <dd>
                <span class="status-ok">{detail.reports_ok} " OK"</span> ", "
                <span class="status-failed">{detail.reports_failed} " FAILED"</span>
            </dd>
            <dt>"Notes"</dt><dd class="notes">{if build.notes.is_empty() { "—".to_string() } else { build.notes.clone() }}</dd>
        </dl>
    }
}

/// Publishing and withdrawing each open a second step (a `<details>` disclosure, which works
/// by keyboard and without JavaScript) before anything is sent.
#[component]
fn Decisions(
    detail: BuildDetail,
    dist: DistView,
    publish: ServerAction<PublishBuild>,
    withdraw: ServerAction<WithdrawBuild>,
) -> impl IntoView {
    let build = detail.build;
    let withdrawn = build.withdrawn_at.is_some();
    let on_stable_branch = build.branch == dist.stable_branch;
    let published = build.channels.contains(&dist.stable_channel);
    let why_not_publishable = if withdrawn {
        None
    } else if !on_stable_branch {
        Some(format!(
            "Only builds of the branch {} can be published to {}.",
            dist.stable_branch, dist.stable_channel
        ))
    } else if published {
        Some(format!("Published to {}.", dist.stable_channel))
    } else {
        None
    };
    let can_publish = !withdrawn && on_stable_branch && !published;
    let id = build.id.to_string();
    let publish_id = id.clone();
    view! {
        <h2>"Decisions"</h2>
        {why_not_publishable.map(|text| view! { <p>{text}</p> })}
        <div class="decisions">
            {can_publish.then(|| view! {
                <details class="confirm">
                    <summary>{format!("Publish to {}", dist.stable_channel)}</summary>
                    <p>"Every device on " <strong>{dist.stable_channel.clone()}</strong> " with an older build will be offered "
                       <strong>{build.version.clone()}</strong> " at its next update check."</p>
                    <ActionForm action=publish attr:class="inline">
                        <input type="hidden" name="id" value=publish_id.clone()/>
                        <button type="submit">{format!("Confirm: publish to {}", dist.stable_channel)}</button>
                    </ActionForm>
                </details>
            })}
            {(!withdrawn).then(move || view! {
                <details class="confirm">
                    <summary>"Withdraw"</summary>
                    <p>"No device will be offered this build any more, on any channel."</p>
                    <ActionForm action=withdraw attr:class="stacked">
                        <input type="hidden" name="id" value=id/>
                        <label>"Reason (goes to the audit log)"
                            <input name="reason" required maxlength="1000" autocomplete="off"/>
                        </label>
                        <button type="submit" class="danger">"Confirm: withdraw"</button>
                    </ActionForm>
                </details>
            })}
        </div>
    }
}

#[component]
fn BuildFiles(detail: BuildDetail) -> impl IntoView {
    view! {
        <h2>"Files"</h2>
        {detail.build.boards.into_iter().map(|(board, files)| view! {
            <h3>"Board " {board}</h3>
            <FilesTable files=files/>
        }).collect_view()}
        <h2>"Download bases"</h2>
        <p>"Devices download the files from one of these, mirrors first."</p>
        <ul class="plain">
            {detail.mirrors.into_iter().map(|base| view! { <li><code class="wrap">{base}</code></li> }).collect_view()}
        </ul>
    }
}

#[component]
fn FilesTable(files: Vec<BuildFile>) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table>
                <thead><tr><th>"Name"</th><th>"Size"</th><th>"SHA-256"</th></tr></thead>
                <tbody>
                    {files.into_iter().map(|file| view! {
                        <tr>
                            <td>{file.name.clone()}</td>
                            <td title=format!("{} bytes", file.size)>{human_size(file.size)}</td>
                            <td><code title=file.sha256.clone()>{short_digest(&file.sha256)}</code></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// `157286400` → `150.0 MiB`: binary units, as image sizes are usually read.
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The first and last 8 hex digits: enough to compare by eye; the full value is in `title`.
fn short_digest(sha256: &str) -> String {
    if sha256.len() <= 20 {
        return sha256.to_string();
    }
    format!("{}…{}", &sha256[..8], &sha256[sha256.len() - 8..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1.0 KiB");
        assert_eq!(human_size(157_286_400), "150.0 MiB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn digests_are_shortened_at_both_ends() {
        let digest = format!("{}{}", "a".repeat(32), "b".repeat(32));
        assert_eq!(short_digest(&digest), "aaaaaaaa…bbbbbbbb");
    }
}
