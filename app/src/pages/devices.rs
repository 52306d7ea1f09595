//! `/dists/{dist}/devices`: how many devices run each version (per board), and a search by
//! uuid prefix; `/dists/{dist}/devices/{uuid}`: one device and its reports.

use crate::api::devices::{get_device, search_devices, version_counts};
use crate::components::error_panel::ErrorPanel;
use crate::components::page_title::PageTitle;
use crate::components::time::Time;
use crate::model::dist::{DeviceHistory, DeviceView, VersionCount};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn DevicesPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let dist = move || params.read().get("dist").unwrap_or_default();
    let prefix = move || query.read().get("uuid").unwrap_or_default();
    let counts = Resource::new(dist, version_counts);
    let found = Resource::new(
        move || (dist(), prefix()),
        |(dist, prefix)| search_devices(dist, prefix),
    );

    view! {
        <PageTitle text=move || format!("Devices of {}", dist())/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let loaded = async { Ok::<_, crate::AppError>((counts.await?, found.await?)) };
                match loaded.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok((counts, found)) => {
                        let (dist, prefix) = (dist(), prefix());
                        view! {
                            <p class="breadcrumb">
                                <a href="/dists">"Dists"</a> " / " <a href=format!("/dists/{dist}")>{dist.clone()}</a>
                            </p>
                            <h1>"Devices of " {dist.clone()}</h1>
                            <h2>"Versions in use"</h2>
                            <VersionChart counts=counts/>
                            <h2>"Find a device"</h2>
                            <form method="get" action=format!("/dists/{dist}/devices") class="filters" role="search">
                                <label>"UUID starts with" <input name="uuid" value=prefix.clone() autocomplete="off" spellcheck="false"/></label>
                                <button type="submit">"Search"</button>
                            </form>
                            <p>{if prefix.is_empty() {
                                "The 50 devices seen most recently:".to_string()
                            } else {
                                format!("Devices whose UUID starts with “{prefix}” (at most 50):")
                            }}</p>
                            <DevicesTable dist=dist devices=found/>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// One group of horizontal bars per board. Each bar's count is written next to it, so the
/// chart reads the same to a screen reader and on paper.
#[component]
fn VersionChart(counts: Vec<VersionCount>) -> impl IntoView {
    if counts.is_empty() {
        return view! { <p>"No device has checked for updates yet."</p> }.into_any();
    }
    let mut boards: Vec<(String, Vec<VersionCount>)> = Vec::new();
    for count in counts {
        match boards.last_mut() {
            Some((board, group)) if *board == count.board => group.push(count),
            _ => boards.push((count.board.clone(), vec![count])),
        }
    }
    view! {
        <div class="charts">
            {boards.into_iter().map(|(board, group)| {
                let most = group.iter().map(|c| c.devices).max().unwrap_or(1).max(1);
                let total: i64 = group.iter().map(|c| c.devices).sum();
                view! {
                    <figure class="bar-chart">
                        <figcaption>"Board " <strong>{board}</strong> " — " {plural(total)}</figcaption>
                        <ul>
                            {group.into_iter().map(|count| {
                                let width = format!("width: {:.1}%", count.devices as f64 * 100.0 / most as f64);
                                view! {
                                    <li>
                                        <span class="bar-label">{count.version}</span>
                                        <span class="bar-track" aria-hidden="true"><span class="bar" style=width></span></span>
                                        <span class="bar-count">{plural(count.devices)}</span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </figure>
                }
            }).collect_view()}
        </div>
    }
    .into_any()
}

fn plural(devices: i64) -> String {
    if devices == 1 {
        "1 device".into()
    } else {
        format!("{devices} devices")
    }
}

#[component]
fn DevicesTable(dist: String, devices: Vec<DeviceView>) -> impl IntoView {
    if devices.is_empty() {
        return view! { <p>"No devices match."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table>
                <thead><tr>
                    <th>"UUID"</th><th>"Board"</th><th>"Branch"</th><th>"Current version"</th>
                    <th>"Last seen"</th><th>"Last offer"</th><th>"Last report"</th>
                </tr></thead>
                <tbody>
                    {devices.into_iter().map(|device| view! {
                        <tr>
                            <td><a href=format!("/dists/{dist}/devices/{}", device.uuid)>{device.uuid.clone()}</a></td>
                            <td>{device.board.clone()}</td>
                            <td>{device.branch.clone()}</td>
                            <td>{device.current_version.clone()}</td>
                            <td><Time millis=device.last_seen/></td>
                            <td><LastOffer device=device.clone()/></td>
                            <td><LastReport device=device/></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn LastOffer(device: DeviceView) -> impl IntoView {
    match (device.last_offer_version, device.last_offer_at) {
        (Some(version), Some(at)) => view! { {version} ", " <Time millis=at/> }.into_any(),
        _ => "none".into_any(),
    }
}

#[component]
fn LastReport(device: DeviceView) -> impl IntoView {
    match (device.last_report_status, device.last_report_at) {
        (Some(status), Some(at)) => {
            view! { <Status status=status/> ", " <Time millis=at/> }.into_any()
        }
        _ => "none".into_any(),
    }
}

/// A report status, coloured, with the word itself always shown.
#[component]
fn Status(status: String) -> impl IntoView {
    let class = match status.as_str() {
        "OK" => "status-ok",
        "FAILED" => "status-failed",
        _ => "",
    };
    view! { <span class=class>{status}</span> }
}

#[component]
pub fn DevicePage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("dist").unwrap_or_default(),
            p.get("uuid").unwrap_or_default(),
        )
    };
    let history = Resource::new(key, |(dist, uuid)| get_device(dist, uuid));

    view! {
        <PageTitle text=move || format!("Device {}", key().1)/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match history.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok(history) => view! { <DeviceHistoryView history=history/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn DeviceHistoryView(history: DeviceHistory) -> impl IntoView {
    let device = history.device;
    let dist = device.dist.clone();
    view! {
        <p class="breadcrumb">
            <a href="/dists">"Dists"</a> " / " <a href=format!("/dists/{dist}")>{dist.clone()}</a>
            " / " <a href=format!("/dists/{dist}/devices")>"Devices"</a>
        </p>
        <h1>"Device " {device.uuid.clone()}</h1>
        <dl class="facts">
            <dt>"Board"</dt><dd>{device.board.clone()}</dd>
            <dt>"Branch"</dt><dd>{device.branch.clone()}</dd>
            <dt>"User"</dt><dd>{device.user.clone()}</dd>
            <dt>"Current version"</dt><dd>{device.current_version.clone()}</dd>
            <dt>"First seen"</dt><dd><Time millis=device.first_seen/></dd>
            <dt>"Last seen"</dt><dd><Time millis=device.last_seen/></dd>
            <dt>"Last offer"</dt><dd><LastOffer device=device.clone()/></dd>
        </dl>
        <h2>"Reports"</h2>
        {if history.reports.is_empty() {
            view! { <p>"This device has not reported an update yet."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table>
                        <thead><tr>
                            <th>"Version"</th><th>"Status"</th><th>"Error"</th>
                            <th>"Update time"</th><th>"Received"</th>
                        </tr></thead>
                        <tbody>
                            {history.reports.into_iter().map(|report| view! {
                                <tr>
                                    <td>{report.version}</td>
                                    <td><Status status=report.status/></td>
                                    <td>{report.error.unwrap_or_else(|| "—".into())}</td>
                                    <td>{report.update_time_seconds.map_or_else(|| "—".into(), |s| format!("{s} s"))}</td>
                                    <td><Time millis=report.received_at/></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
    }
}
