//! `/rollouts/{id}`: one rollout, live: where it stands, its chart, its caps, the actions a
//! release manager may take (each with a reason and a confirmation), the bucket of any device,
//! and its history. It refreshes itself every few seconds.

use super::dists::current_role;
use super::rollouts::StateBadge;
use crate::api::rollouts::{get_rollout, RolloutBucket, RolloutPage, SteerRollout};
use crate::components::error_panel::{ErrorPanel, FormError};
use crate::components::page_title::PageTitle;
use crate::components::time::Time;
use crate::model::rollout::{
    format_steps, Command, Counts, RolloutEvent, RolloutState, RolloutView,
};
use crate::model::Permission;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

const REFRESH_SECONDS: u64 = 3;

#[component]
pub fn RolloutPageView() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok());
    let steer = ServerAction::<SteerRollout>::new();
    let tick = RwSignal::new(0u64);
    // Live: refetch on a timer in the browser (the server renders once).
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|t| *t += 1),
            std::time::Duration::from_secs(REFRESH_SECONDS),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    let page = Resource::new(
        move || (id(), steer.version().get(), tick.get()),
        |(id, _, _)| async move {
            match id {
                Some(id) => get_rollout(id).await,
                None => Err(crate::AppError::not_found("rollout")),
            }
        },
    );
    let steer_error = move || steer.value().get().and_then(|r| r.err());
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let role = current_role().await;
                match page.await {
                    Err(error) => view! { <PageTitle text="Rollout"/> <ErrorPanel error=error/> }.into_any(),
                    Ok(data) => {
                        let steering = role.is_some_and(|r| r.may(Permission::SteerRollout));
                        let RolloutPage { rollout, history, now } = data;
                        view! {
                            <PageTitle text=format!("Rollout #{}", rollout.id)/>
                            <Summary rollout=rollout.clone() now=now/>
                            <PercentChart rollout=rollout.clone() history=history.clone() now=now/>
                            <StepOutcomes rollout=rollout.clone()/>
                            <Caps rollout=rollout.clone()/>
                            {move || steer_error().map(|error| view! { <FormError error=error/> })}
                            {steering.then(|| view! { <Actions rollout=rollout.clone() steer=steer/> })}
                            <BucketLookup id=rollout.id/>
                            <History history=history/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn Summary(rollout: RolloutView, now: i64) -> impl IntoView {
    let r = rollout;
    let countdown = r.hold_ends_at.map(|end| {
        let left = (end - now).max(0) / 1000;
        if left == 0 {
            "hold over: advances once the step is healthy".to_string()
        } else {
            format!("hold ends in {}:{:02}", left / 60, left % 60)
        }
    });
    view! {
        <p class="breadcrumb">
            <a href="/dists">"Dists"</a> " / "
            <a href=format!("/dists/{}", r.dist)>{r.dist.clone()}</a> " / "
            <a href=format!("/dists/{}/rollouts", r.dist)>"Rollouts"</a>
        </p>
        <h1>"Rollout #" {r.id} " of " <a href=format!("/builds/{}", r.build_id)>{r.version.clone()}</a></h1>
        <p class="rollout-now" data-state=r.state.as_str()>
            <StateBadge state=r.state/> " "
            <strong class="percent">{format!("{}%", r.percent)}</strong>
            {format!(" of {} · step {} of {}", r.channel, r.current_step + 1, r.steps.len())}
            {countdown.map(|c| view! { " · " <span class="countdown">{c}</span> })}
        </p>
        {r.halt_reason.clone().filter(|_| r.state == RolloutState::Halted).map(|why| view! {
            <p class="notice warning" role="status">"Halted: " {why}</p>
        })}
        {(!r.state.is_active() && r.counts.in_flight() > 0).then(|| view! {
            <p class="notice settling" role="status">
                {format!(
                    "{} still updating when this rollout ended. Their reports still count; a device that sends none within {} minutes of its offer counts as timed out.",
                    match r.counts.in_flight() {
                        1 => "1 device was".to_string(),
                        n => format!("{n} devices were"),
                    },
                    r.update_timeout_minutes,
                )}
            </p>
        })}
        <dl class="facts">
            <dt>"Steps"</dt><dd>{format_steps(&r.steps)}</dd>
            <dt>"Health gate"</dt>
            <dd>{format!("at least {} final reports, at most {:.1}% failed", r.health.min_reports, r.health.max_failure_ratio * 100.0)}</dd>
            <dt>"Update timeout"</dt><dd>{format!("{} minutes", r.update_timeout_minutes)}</dd>
            <dt>"Whole rollout"</dt><dd><CountsLine counts=r.counts/></dd>
            <dt>"This step"</dt><dd><CountsLine counts=r.step_counts/></dd>
            {r.halt_reason.clone().filter(|_| r.state != RolloutState::Halted).map(|why| view! {
                <dt>"Last halt"</dt><dd class="last-halt">{why}</dd>
            })}
            <dt>"Cohort salt"</dt><dd><code>{r.cohort_salt.clone()}</code></dd>
            <dt>"Started"</dt><dd><Time millis=r.created_at/> " by " {r.created_by.clone()}</dd>
        </dl>
    }
}

#[component]
fn CountsLine(counts: Counts) -> impl IntoView {
    view! {
        <span class="counts">
            {format!("{} offered, {} downloading, {} rebooting, ", counts.offered, counts.downloading, counts.rebooting)}
            <span class="status-ok">{format!("{} succeeded", counts.succeeded)}</span> ", "
            <span class="status-failed">{format!("{} failed, {} timed out", counts.failed, counts.timed_out)}</span>
        </span>
    }
}

const CHART_W: f64 = 600.0;
const CHART_H: f64 = 160.0;

/// Percent over time, as a step line drawn from the history.
#[component]
fn PercentChart(rollout: RolloutView, history: Vec<RolloutEvent>, now: i64) -> impl IntoView {
    let start = rollout.created_at;
    let end = if rollout.state.is_active() {
        now
    } else {
        history.last().map_or(now, |e| e.at)
    }
    .max(start + 1);
    let x = move |t: i64| (t - start) as f64 / (end - start) as f64 * CHART_W;
    let y = |percent: f64| CHART_H - percent / 100.0 * CHART_H;
    let mut path = String::new();
    let mut last_y = y(0.0);
    for (i, e) in history.iter().enumerate() {
        let (px, py) = (x(e.at), y(e.percent));
        if i == 0 {
            path.push_str(&format!("M{px:.1},{py:.1}"));
        } else {
            path.push_str(&format!(" L{px:.1},{last_y:.1} L{px:.1},{py:.1}"));
        }
        last_y = py;
    }
    path.push_str(&format!(" L{:.1},{last_y:.1}", x(end)));
    let label = format!(
        "Percent of the channel offered the build over time; now {}%",
        rollout.percent
    );
    view! {
        <h2>"Percent over time"</h2>
        <svg class="chart" viewBox=format!("0 0 {CHART_W} {CHART_H}") role="img" aria-label=label>
            <line class="grid" x1="0" x2=CHART_W y1=y(50.0) y2=y(50.0)/>
            <path class="percent-line" d=path/>
            {history.iter().filter(|e| e.action == "halt").map(|e| view! {
                <line class="halt-mark" x1=x(e.at) x2=x(e.at) y1="0" y2=CHART_H/>
            }).collect_view()}
        </svg>
    }
}

/// Outcomes per step, with the failure ratio against the threshold line.
#[component]
fn StepOutcomes(rollout: RolloutView) -> impl IntoView {
    let limit = rollout.health.max_failure_ratio;
    let steps = rollout.steps.len().max(rollout.counts_per_step.len());
    let bar_w = CHART_W / steps as f64;
    let y = |ratio: f64| CHART_H - ratio.min(1.0) * CHART_H;
    let rows: Vec<(usize, Counts)> = (0..steps)
        .map(|i| {
            (
                i,
                rollout.counts_per_step.get(i).copied().unwrap_or_default(),
            )
        })
        .collect();
    view! {
        <h2>"Outcomes per step"</h2>
        <svg class="chart" viewBox=format!("0 0 {CHART_W} {CHART_H}") role="img"
            aria-label=format!("Failure ratio per step; the line is the {:.1}% limit", limit * 100.0)>
            {rows.iter().map(|(i, c)| {
                let ratio = c.failure_ratio();
                let class = if ratio > limit { "bar over" } else { "bar" };
                view! {
                    <rect class=class
                        x=*i as f64 * bar_w + 4.0 width=bar_w - 8.0 y=y(ratio) height=CHART_H - y(ratio)/>
                }
            }).collect_view()}
            <line class="threshold" x1="0" x2=CHART_W y1=y(limit) y2=y(limit)/>
        </svg>
        <div class="table-scroll">
            <table>
                <thead><tr><th>"Step"</th><th>"Percent"</th><th>"Succeeded"</th><th>"Failed"</th><th>"Timed out"</th><th>"In flight"</th><th>"Failure ratio"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|(i, c)| view! {
                        <tr class:current=i == rollout.current_step>
                            <td>{i + 1}</td>
                            <td>{rollout.steps.get(i).map(|s| format!("{}%", s.percent)).unwrap_or_default()}</td>
                            <td>{c.succeeded}</td><td>{c.failed}</td><td>{c.timed_out}</td><td>{c.in_flight()}</td>
                            <td>{format!("{:.1}%", c.failure_ratio() * 100.0)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Caps(rollout: RolloutView) -> impl IntoView {
    let gauge = |used: u64, max: Option<u32>| match max {
        Some(max) => format!(
            "{used} of {max} ({:.0}%)",
            used as f64 / f64::from(max) * 100.0
        ),
        None => format!("{used} (no cap)"),
    };
    view! {
        <h2>"Caps"</h2>
        <dl class="facts">
            <dt>"New offers in the last hour"</dt><dd class="cap-grants">{gauge(rollout.grants_last_hour, rollout.max_grants_per_hour)}</dd>
            <dt>"Devices in flight"</dt><dd class="cap-in-flight">{gauge(rollout.in_flight, rollout.max_in_flight)}</dd>
        </dl>
    }
}

#[component]
fn Actions(rollout: RolloutView, steer: ServerAction<SteerRollout>) -> impl IntoView {
    let commands: Vec<Command> = [
        Command::Pause,
        Command::Resume,
        Command::Halt,
        Command::Advance,
        Command::SetPercent,
        Command::Rollback,
    ]
    .into_iter()
    .filter(|c| c.apply(rollout.state).is_ok())
    .collect();
    if commands.is_empty() {
        return view! { <p>"This rollout is over: nothing more can be done with it."</p> }
            .into_any();
    }
    let id = rollout.id.to_string();
    view! {
        <h2>"Actions"</h2>
        <div class="decisions">
            {commands.into_iter().map(|command| {
                let (title, warning) = describe(command);
                let id = id.clone();
                let danger = if command == Command::Rollback || command == Command::Halt { "danger" } else { "" };
                view! {
                    <details class="confirm">
                        <summary>{title}</summary>
                        <p>{warning}</p>
                        <ActionForm action=steer attr:class="stacked">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="action" value=command.as_str()/>
                            {(command == Command::SetPercent).then(|| view! {
                                <label>"New percent" <input name="percent" required inputmode="decimal" autocomplete="off"/></label>
                            })}
                            <label>"Reason (goes to the history and the audit log)"
                                <input name="reason" required maxlength="1000" autocomplete="off"/></label>
                            <button type="submit" class=danger>
                                {format!("Confirm: {}", title.to_lowercase())}
                            </button>
                        </ActionForm>
                    </details>
                }
            }).collect_view()}
        </div>
    }
    .into_any()
}

fn describe(command: Command) -> (&'static str, &'static str) {
    match command {
        Command::Pause => ("Pause", "No new offers; devices offered the build but not started lose the offer."),
        Command::Resume => ("Resume", "Offers start again at the current percent."),
        Command::Halt => ("Halt", "Stops the rollout: no new offers, offers not started are taken back."),
        Command::Advance => ("Advance", "Goes to the next step now, without waiting for the hold or the health gate."),
        Command::SetPercent => ("Set percent", "Offers the build to this share of the channel. Raising it never removes a device."),
        Command::Rollback => ("Roll back", "The channel points back at the build it offered before; nobody is offered this one any more."),
    }
}

#[component]
fn BucketLookup(id: i64) -> impl IntoView {
    let lookup = ServerAction::<RolloutBucket>::new();
    let answer = move || {
        lookup.value().get().map(|r| match r {
            Ok(b) => view! {
                <p class="bucket-answer" role="status">
                    {format!("Device {} has bucket {}: ", b.uuid, b.bucket)}
                    <strong>{if b.in_cohort { "in the cohort" } else { "not in the cohort" }}</strong>
                    {format!(" ({}).", b.why)}
                </p>
            }
            .into_any(),
            Err(error) => view! { <FormError error=error/> }.into_any(),
        })
    };
    view! {
        <h2>"Bucket of a device"</h2>
        <ActionForm action=lookup attr:class="inline">
            <input type="hidden" name="id" value=id.to_string()/>
            <label>"Device uuid " <input name="uuid" required maxlength="256" autocomplete="off"/></label>
            <button type="submit">"Show bucket"</button>
        </ActionForm>
        {answer}
    }
}

#[component]
fn History(history: Vec<RolloutEvent>) -> impl IntoView {
    view! {
        <h2>"History"</h2>
        <div class="table-scroll">
            <table class="history">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"What"</th><th>"Percent"</th><th>"Why"</th></tr></thead>
                <tbody>
                    {history.into_iter().rev().map(|e| view! {
                        <tr>
                            <td><Time millis=e.at/></td>
                            <td>{e.actor.clone()}</td>
                            <td>{e.action.clone()}</td>
                            <td>{format!("{}% (step {})", e.percent, e.step + 1)}</td>
                            <td>{e.reason.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
