use crate::components::error_panel::ErrorPanel;
use crate::components::page_title::PageTitle;
use crate::error::AppError;
use crate::model::Permission;
use crate::SessionResource;
use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    view! {
        <PageTitle text="Overview"/>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match session.await.ok().and_then(|info| info.user) {
                    None => view! { <ErrorPanel error=AppError::Unauthorized/> }.into_any(),
                    Some(user) => view! {
                        <h1>"Overview"</h1>
                        <p>"Signed in as " <strong>{user.username.clone()}</strong>
                           " with the role " <strong>{user.role.to_string()}</strong> "."</p>
                        <p>"Sluice decides which build every device, image and mesh node gets, and when."</p>
                        <ul class="cards">
                            <li><a href="/dists">"Dists"</a>" — builds, what is published to stable, download mirrors and devices."</li>
                        </ul>
                        {user.role.may(Permission::ManageUsers).then(|| view! {
                            <ul class="cards">
                                <li><a href="/admin/users">"Users"</a>" — create accounts, change roles, disable."</li>
                                <li><a href="/admin/tokens">"API tokens"</a>" — for CI jobs and scripts."</li>
                                <li><a href="/admin/webhooks">"Webhooks"</a>" — where Sluice sends its messages, and how each delivery went."</li>
                                <li><a href="/admin/audit">"Audit log"</a>" — every change, who made it and from where."</li>
                            </ul>
                        })}
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
