//! `/dists`: every dist, and for admins the form that creates one.

use crate::api::registry::{list_dists, CreateDist};
use crate::components::error_panel::{ErrorPanel, FormError};
use crate::components::page_title::PageTitle;
use crate::model::version::VersionScheme;
use crate::model::{Permission, Role};
use crate::SessionResource;
use leptos::prelude::*;

/// The signed-in user's role, from the session the layout already loaded. Pages use it only to
/// hide forms a role cannot use; every server function checks the role again.
pub async fn current_role() -> Option<Role> {
    let session = expect_context::<SessionResource>();
    session
        .await
        .ok()
        .and_then(|info| info.user)
        .map(|user| user.role)
}

#[component]
pub fn DistsPage() -> impl IntoView {
    let create = ServerAction::<CreateDist>::new();
    let dists = Resource::new(move || create.version().get(), |_| list_dists());

    view! {
        <PageTitle text="Dists"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let role = current_role().await;
                match dists.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok(list) => view! {
                        <h1>"Dists"</h1>
                        <p>"A dist is a line of images (for example recalbox) with its own version scheme, builds, channels and devices."</p>
                        {list.is_empty().then(|| view! { <p>"No dists yet."</p> })}
                        <div class="table-scroll">
                            <table>
                                <thead><tr>
                                    <th>"Name"</th><th>"Version scheme"</th>
                                    <th>"Stable channel ← branch"</th><th>"Legacy version file"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|dist| view! {
                                        <tr>
                                            <td><a href=format!("/dists/{}", dist.name)>{dist.name.clone()}</a></td>
                                            <td>{dist.version_scheme.as_str()}</td>
                                            <td>{format!("{} ← {}", dist.stable_channel, dist.stable_branch)}</td>
                                            <td>{dist.legacy_version_file.unwrap_or_else(|| "—".into())}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {role.is_some_and(|r| r.may(Permission::ManageDists)).then(|| view! { <CreateDistForm create=create/> })}
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CreateDistForm(create: ServerAction<CreateDist>) -> impl IntoView {
    let error = move || create.value().get().and_then(|r| r.err());
    view! {
        <h2>"Create a dist"</h2>
        {move || error().map(|error| view! { <FormError error=error/> })}
        <ActionForm action=create attr:class="stacked">
            <label>"Name" <input name="name" required maxlength="64" autocomplete="off"/></label>
            <label>"Version scheme"
                <select name="version_scheme">
                    {VersionScheme::ALL.into_iter().map(|scheme| view! {
                        <option value=scheme.as_str()>{scheme.as_str()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>"Stable channel" <input name="stable_channel" required maxlength="64" value="stable"/></label>
            <label>"Branch that feeds it" <input name="stable_branch" required maxlength="64" value="master"/></label>
            <label>"Legacy version file (optional)" <input name="legacy_version_file" maxlength="64" placeholder="recalbox.version"/></label>
            <button type="submit">"Create dist"</button>
        </ActionForm>
    }
}
