//! `/dists/{dist}/releases`: the release stream of one dist in the console. Release managers
//! record events (enter or leave a state, with a note); everyone signed in sees the states now,
//! the timeline and who did what.

use super::dists::current_role;
use super::status::StatusView;
use crate::api::release_stream::{
    list_rules, release_console, CreateRule, RecordReleaseEvent, RemoveRule, RulesData,
    SetReleaseSettings,
};
use crate::components::error_panel::{submitted, ErrorPanel, FormError};
use crate::components::live::follow_dist;
use crate::components::page_title::PageTitle;
use crate::components::time::Time;
use crate::model::release_stream::ReleaseEvent;
use crate::model::release_stream::RuleAction;
use crate::model::release_stream::StreamDist;
use crate::model::Permission;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn ReleasesPage() -> impl IntoView {
    let params = use_params_map();
    let dist = move || params.read().get("dist").unwrap_or_default();
    let record = ServerAction::<RecordReleaseEvent>::new();
    let settings = ServerAction::<SetReleaseSettings>::new();
    let create_rule = ServerAction::<CreateRule>::new();
    let remove_rule = ServerAction::<RemoveRule>::new();
    // Loaded with the page (not in a nested suspense), so server and browser render alike.
    let rules = Resource::new(
        move || {
            (
                dist(),
                create_rule.version().get(),
                remove_rule.version().get(),
            )
        },
        |(dist, _, _)| list_rules(dist),
    );
    let console = Resource::new(
        move || (dist(), record.version().get(), settings.version().get()),
        |(dist, _, _)| release_console(dist),
    );
    follow_dist(
        params.read_untracked().get("dist").unwrap_or_default(),
        move || console.refetch(),
    );
    view! {
        <PageTitle text=move || format!("{} releases", dist())/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let role = current_role().await;
                let loaded = async { Ok::<_, crate::AppError>((console.await?, rules.await?)) };
                match loaded.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok((console, rules)) => {
                        let may_record = role.is_some_and(|r| r.may(Permission::RecordReleaseEvent));
                        let is_admin = role.is_some_and(|r| r.may(Permission::ConfigureReleaseStream));
                        let name = console.status.dist.name.clone();
                        let face = console.status.dist.clone();
                        view! {
                            <p class="breadcrumb"><a href=format!("/dists/{name}")>{name.clone()}</a></p>
                            {may_record.then(|| view! { <RecordForm dist=name.clone() record=record/> })}
                            <StatusView data=console.status/>
                            <h2>"Who did what"</h2>
                            <EventsTable events=console.recent/>
                            {is_admin.then(|| view! { <SettingsForm dist=face settings=settings/> })}
                            {rules.map(|data| view! {
                                <Rules dist=name.clone() data=data create=create_rule remove=remove_rule/>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn RecordForm(dist: String, record: ServerAction<RecordReleaseEvent>) -> impl IntoView {
    view! {
        <h2>"Record an event"</h2>
        {move || submitted(record.value().get(), |event| view! {
                <p class="notice" role="status">"Recorded: " <strong>{event.short()}</strong></p>
            }.into_any())}
        <ActionForm action=record attr:class="stacked record-event">
            <input type="hidden" name="dist" value=dist/>
            <label>"Release" <input name="release" required maxlength="64" placeholder="34" autocomplete="off"/></label>
            <label>"State" <input name="state" required maxlength="64" placeholder="branched" autocomplete="off"/></label>
            <fieldset>
                <legend>"The release"</legend>
                <label class="inline"><input type="radio" name="action" value="entered" checked/> " entered the state"</label>
                <label class="inline"><input type="radio" name="action" value="left"/> " left the state"</label>
            </fieldset>
            <label>"When (RFC 3339; empty for now)" <input name="at" placeholder="2021-04-27T14:00:00Z" autocomplete="off"/></label>
            <label>"Note" <textarea name="note" rows="2" maxlength="2000"></textarea></label>
            <button type="submit">"Record"</button>
        </ActionForm>
    }
}

/// Admins: whether the dist is on the public status page, and the states `release.json` lists.
#[component]
fn SettingsForm(dist: StreamDist, settings: ServerAction<SetReleaseSettings>) -> impl IntoView {
    view! {
        <h2>"Public face"</h2>
        {move || settings.value().get().and_then(|r| r.err()).map(|error| view! { <FormError error=error/> })}
        <ActionForm action=settings attr:class="stacked release-settings">
            <input type="hidden" name="dist" value=dist.name.clone()/>
            <label class="inline"><input type="checkbox" name="public" value="on" checked=dist.public/> " Public: on the status page and in release.json"</label>
            <label>"State listed as \"stable\"" <input name="stable_state" required maxlength="64" value=dist.stable_state.clone()/></label>
            <label>"State listed as \"branched\"" <input name="branched_state" required maxlength="64" value=dist.branched_state.clone()/></label>
            <button type="submit">"Save"</button>
        </ActionForm>
    }
}

/// Admins: "when a release of this dist enters / leaves S, send it to webhook W".
#[component]
fn Rules(
    dist: String,
    data: RulesData,
    create: ServerAction<CreateRule>,
    remove: ServerAction<RemoveRule>,
) -> impl IntoView {
    let error = move || {
        [
            create.value().get().and_then(|r| r.err()),
            remove.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    view! {
        <h2>"Rules"</h2>
        {move || error().map(|error| view! { <FormError error=error/> })}
        {if data.rules.is_empty() {
            view! { <p>"No rule yet."</p> }.into_any()
        } else {
            view! {
                <ul class="rules">
                    {data.rules.into_iter().map(|rule| {
                        let RuleAction::Webhook { webhook_id } = rule.action;
                        view! {
                            <li>
                                "When a release " {rule.on.as_str()} " " <strong>{rule.state.clone()}</strong>
                                ", send it to webhook " {webhook_id} " "
                                <ActionForm action=remove attr:class="inline">
                                    <input type="hidden" name="id" value=rule.id/>
                                    <button type="submit" class="link-button">"Remove"</button>
                                </ActionForm>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {if data.webhooks.is_empty() {
            view! { <p>"Register a webhook (POST /api/v1/webhooks) to add rules."</p> }.into_any()
        } else {
            view! {
                <ActionForm action=create attr:class="stacked add-rule">
                    <input type="hidden" name="dist" value=dist.clone()/>
                    <label>"When a release" <select name="on">
                        <option value="entered">"enters"</option>
                        <option value="left">"leaves"</option>
                    </select></label>
                    <label>"the state" <input name="state" required maxlength="64" placeholder="stable"/></label>
                    <label>"send it to" <select name="webhook_id">
                        {data.webhooks.into_iter().map(|(id, url)| view! {
                            <option value=id>{format!("webhook {id}: {url}")}</option>
                        }).collect_view()}
                    </select></label>
                    <button type="submit">"Add rule"</button>
                </ActionForm>
            }.into_any()
        }}
    }
}

#[component]
fn EventsTable(events: Vec<ReleaseEvent>) -> impl IntoView {
    if events.is_empty() {
        return view! { <p>"No events yet."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="release-events">
                <thead><tr>
                    <th>"When"</th><th>"Event"</th><th>"Was / is"</th><th>"Who"</th><th>"Recorded"</th><th>"Note"</th>
                </tr></thead>
                <tbody>
                    {events.into_iter().map(|e| view! {
                        <tr>
                            <td><Time millis=e.at/></td>
                            <td>{format!("{} {} {}", e.release, e.action.as_str(), e.state)}</td>
                            <td>{format!("{}-{}", u8::from(e.was_in_state), u8::from(e.in_state()))}</td>
                            <td>{e.actor.clone()}</td>
                            <td><Time millis=e.recorded_at/></td>
                            <td>{e.note.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
