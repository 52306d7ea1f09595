//! `/dists/{dist}/rollouts`: the rollouts of a dist with their state at a glance, and for
//! release managers the form that starts one.

use super::dists::current_role;
use crate::api::rollouts::{rollouts_of_dist, CreateRollout};
use crate::components::error_panel::{ErrorPanel, FormError};
use crate::components::page_title::PageTitle;
use crate::components::time::Time;
use crate::model::dist::DistView;
use crate::model::rollout::RolloutView;
use crate::model::Permission;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn RolloutsPage() -> impl IntoView {
    let params = use_params_map();
    let dist = move || params.read().get("dist").unwrap_or_default();
    let create = ServerAction::<CreateRollout>::new();
    let page = Resource::new(
        move || (dist(), create.version().get()),
        |(dist, _)| rollouts_of_dist(dist),
    );
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let role = current_role().await;
                match page.await {
                    Err(error) => view! { <PageTitle text="Rollouts"/> <ErrorPanel error=error/> }.into_any(),
                    Ok((info, rollouts)) => {
                        let steering = role.is_some_and(|r| r.may(Permission::SteerRollout));
                        view! {
                            <PageTitle text=format!("Rollouts of {}", info.name)/>
                            <p class="breadcrumb">
                                <a href="/dists">"Dists"</a> " / "
                                <a href=format!("/dists/{}", info.name)>{info.name.clone()}</a>
                            </p>
                            <h1>"Rollouts of " {info.name.clone()}</h1>
                            <RolloutTable rollouts=rollouts/>
                            {steering.then(|| view! { <StartRolloutForm dist=info create=create/> })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn RolloutTable(rollouts: Vec<RolloutView>) -> impl IntoView {
    if rollouts.is_empty() {
        return view! { <p>"No rollouts yet."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table>
                <thead><tr>
                    <th>"Rollout"</th><th>"Version"</th><th>"State"</th><th>"Percent"</th>
                    <th>"Step"</th><th>"OK / failed"</th><th>"Started"</th>
                </tr></thead>
                <tbody>
                    {rollouts.into_iter().map(|r| view! {
                        <tr>
                            <td><a href=format!("/rollouts/{}", r.id)>{format!("#{}", r.id)}</a></td>
                            <td>{r.version.clone()}</td>
                            <td><StateBadge state=r.state/></td>
                            <td>{format!("{}%", r.percent)}</td>
                            <td>{format!("{} of {}", r.current_step + 1, r.steps.len())}</td>
                            <td>{format!("{} / {}", r.counts.succeeded, r.counts.failures())}</td>
                            <td><Time millis=r.created_at/></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn StateBadge(state: crate::model::rollout::RolloutState) -> impl IntoView {
    let name = state.as_str();
    view! { <span class=format!("badge state-{name}")>{name.replace('_', " ")}</span> }
}

#[component]
fn StartRolloutForm(dist: DistView, create: ServerAction<CreateRollout>) -> impl IntoView {
    let error = move || create.value().get().and_then(|r| r.err());
    view! {
        <h2>"Start a rollout"</h2>
        <p>"Offers a build of " <strong>{dist.stable_branch.clone()}</strong> " to a growing share of the "
           <strong>{dist.stable_channel.clone()}</strong> " channel. A running rollout of this channel is superseded."</p>
        {move || error().map(|error| view! { <FormError error=error/> })}
        <ActionForm action=create attr:class="stacked">
            <input type="hidden" name="dist" value=dist.name.clone()/>
            <label>"Version" <input name="version" required maxlength="256" autocomplete="off"
                placeholder="master-2017-08-26-891011"/></label>
            <label>"Steps (percent:hold minutes, comma separated)"
                <input name="steps" required value="1:60, 10:240, 100"/></label>
            <fieldset>
                <legend>"Health gate"</legend>
                <label>"Final reports needed per step" <input name="min_reports" inputmode="numeric" value="20"/></label>
                <label>"Most failures allowed (%)" <input name="max_failure_ratio_percent" inputmode="decimal" value="5"/></label>
                <label>"Update timeout (minutes)" <input name="update_timeout_minutes" inputmode="numeric" value="120"/></label>
            </fieldset>
            <fieldset>
                <legend>"Caps (empty for none)"</legend>
                <label>"New offers per hour" <input name="max_grants_per_hour" inputmode="numeric"/></label>
                <label>"Devices in flight" <input name="max_in_flight" inputmode="numeric"/></label>
            </fieldset>
            <details>
                <summary>"Cohort"</summary>
                <label>"Canary uuids (always first)" <textarea name="canary_uuids" rows="2"></textarea></label>
                <label>"Denied uuids (never)" <textarea name="deny_uuids" rows="2"></textarea></label>
                <label>"Cohort salt (empty: the rollout's id)" <input name="cohort_salt" maxlength="200"/></label>
            </details>
            <button type="submit">"Start rollout"</button>
        </ActionForm>
    }
}
