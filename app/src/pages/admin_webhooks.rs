//! `/admin/webhooks`: register the URLs that receive every message Sluice emits, switch them
//! off and on; `/admin/webhooks/{id}`: one webhook's delivery log, with "send again".

use crate::api::webhooks::{
    list_webhooks, webhook_deliveries, CreateWebhook, Redeliver, SetWebhookActive,
};
use crate::components::error_panel::{submitted, ErrorPanel, FormError};
use crate::components::page_title::PageTitle;
use crate::components::shown_once::ShownOnce;
use crate::components::time::Time;
use crate::model::webhook::DeliveryView;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let create = ServerAction::<CreateWebhook>::new();
    let toggle = ServerAction::<SetWebhookActive>::new();
    let hooks = Resource::new(
        move || (create.version().get(), toggle.version().get()),
        |_| list_webhooks(),
    );
    let toggle_error = move || toggle.value().get().and_then(|r| r.err());

    view! {
        <PageTitle text="Webhooks"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match hooks.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok(list) => view! {
                        <h1>"Webhooks"</h1>
                        <p>"Every message Sluice emits is POSTed to each active webhook, signed with "
                           <code>"X-Sluice-Signature-256"</code>
                           " (HMAC-SHA256 of the body with the webhook's secret), and retried with back-off until it is accepted."</p>
                        {move || submitted(create.value().get(), |new| view! {
                                <ShownOnce secret=new.secret.clone()>
                                    "Webhook " <strong>{new.webhook.url.clone()}</strong>
                                    " added. This is its signing secret."
                                </ShownOnce>
                            }.into_any())}
                        {move || toggle_error().map(|error| view! { <FormError error=error/> })}
                        <div class="table-scroll">
                            <table>
                                <thead><tr>
                                    <th>"URL"</th><th>"State"</th><th>"Added by"</th>
                                    <th>"Added"</th><th>"Actions"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|hook| view! {
                                        <tr>
                                            <td><a href=format!("/admin/webhooks/{}", hook.id)>{hook.url.clone()}</a></td>
                                            <td>{if hook.active { "active" } else { "off" }}</td>
                                            <td>{hook.created_by.clone()}</td>
                                            <td><Time millis=hook.created_at/></td>
                                            <td>
                                                <ActionForm action=toggle attr:class="inline">
                                                    <input type="hidden" name="id" value=hook.id/>
                                                    <input type="hidden" name="active" value=(!hook.active).to_string()/>
                                                    <button type="submit" class=if hook.active { "danger" } else { "" }>
                                                        {if hook.active { "Switch off" } else { "Switch on" }}
                                                    </button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <h2>"Add a webhook"</h2>
                        <ActionForm action=create attr:class="stacked">
                            <label>"URL (http or https)"
                                <input name="url" type="url" required maxlength="2000" autocomplete="off"
                                       placeholder="https://hooks.example.org/sluice"/>
                            </label>
                            <button type="submit">"Add webhook"</button>
                        </ActionForm>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn WebhookPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok());
    let redeliver = ServerAction::<Redeliver>::new();
    let log = Resource::new(
        move || (id(), redeliver.version().get()),
        |(id, _)| webhook_deliveries(id.unwrap_or(-1)),
    );

    view! {
        <PageTitle text="Webhook deliveries"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match log.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok((hook, deliveries)) => view! {
                        <p><a href="/admin/webhooks">"← Webhooks"</a></p>
                        <h1>"Deliveries to " {hook.url.clone()}</h1>
                        <p>{if hook.active { "Active." } else { "Switched off: new messages are not sent to it." }}
                           " The newest 200 deliveries, newest first."</p>
                        {move || submitted(redeliver.value().get(), |new_id| view! {
                                <p class="notice" role="status">{format!("Queued again as delivery {new_id}.")}</p>
                            }.into_any())}
                        {if deliveries.is_empty() {
                            view! { <p>"Nothing has been sent to this webhook yet."</p> }.into_any()
                        } else {
                            view! { <DeliveryTable deliveries redeliver/> }.into_any()
                        }}
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DeliveryTable(
    deliveries: Vec<DeliveryView>,
    redeliver: ServerAction<Redeliver>,
) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table>
                <thead><tr>
                    <th>"Delivery"</th><th>"Message"</th><th>"Outcome"</th><th>"Attempts"</th>
                    <th>"Last answer"</th><th>"When"</th><th>"Actions"</th>
                </tr></thead>
                <tbody>
                    {deliveries.into_iter().map(|d| {
                        let answer = match (d.last_status, d.last_error.clone()) {
                            (Some(status), _) => format!("HTTP {status}"),
                            (None, Some(error)) => error,
                            (None, None) => "—".to_string(),
                        };
                        let when = d.delivered_at.or(d.next_attempt_at);
                        view! {
                            <tr>
                                <td>{d.id}</td>
                                <td>{format!("#{} ", d.outbox_id)}<code>{d.topic.clone()}</code></td>
                                <td class=format!("outcome-{}", d.outcome())>{d.outcome()}</td>
                                <td>{d.attempts}</td>
                                <td>{answer}</td>
                                <td>{when.map(|at| view! { <Time millis=at/> })}</td>
                                <td>
                                    <ActionForm action=redeliver attr:class="inline">
                                        <input type="hidden" name="delivery_id" value=d.id/>
                                        <button type="submit">"Send again"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
