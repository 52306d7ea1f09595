use crate::api::audit::list_audit;
use crate::components::error_panel::ErrorPanel;
use crate::components::page_title::PageTitle;
use crate::components::time::Time;
use crate::model::AuditFilter;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The audit log, newest first, filtered by the query string (so a filtered view can be shared).
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let q = query.read();
        AuditFilter {
            actor: q.get("actor").filter(|s| !s.is_empty()),
            action: q.get("action").filter(|s| !s.is_empty()),
            before_id: q.get("before").and_then(|s| s.parse().ok()),
        }
    };
    let entries = Resource::new(filter, |f| list_audit(f.actor, f.action, f.before_id));

    view! {
        <PageTitle text="Audit log"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let current = filter();
                match entries.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok(list) => {
                        let older = list.last().map(|e| e.id).filter(|_| list.len() as i64 >= 100);
                        view! {
                            <h1>"Audit log"</h1>
                            <form method="get" action="/admin/audit" class="filters">
                                <label>"Who" <input name="actor" value=current.actor.clone().unwrap_or_default()/></label>
                                <label>"Action starts with" <input name="action" placeholder="user." value=current.action.clone().unwrap_or_default()/></label>
                                <button type="submit">"Filter"</button>
                                <a href="/admin/audit">"Clear"</a>
                            </form>
                            {list.is_empty().then(|| view! { <p>"No entries match."</p> })}
                            <div class="table-scroll">
                                <table>
                                    <thead><tr>
                                        <th>"When"</th><th>"Who"</th><th>"Action"</th>
                                        <th>"Target"</th><th>"Detail"</th><th>"From"</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|entry| view! {
                                            <tr>
                                                <td><Time millis=entry.at/></td>
                                                <td>{entry.actor}</td>
                                                <td><code>{entry.action}</code></td>
                                                <td>{entry.target}</td>
                                                <td>{entry.detail}</td>
                                                <td>{entry.address}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            {older.map(|id| {
                                let query = serde_urlencoded::to_string([
                                    ("actor", current.actor.clone().unwrap_or_default()),
                                    ("action", current.action.clone().unwrap_or_default()),
                                    ("before", id.to_string()),
                                ])
                                .unwrap_or_default();
                                let href = format!("/admin/audit?{query}");
                                view! { <p><a href=href>"Older entries"</a></p> }
                            })}
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
