use crate::components::setup_form::SetupForm;
use crate::model::{Permission, SessionInfo};
use crate::SessionResource;
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::use_location;

/// Header, navigation and content. While no user exists the console's pages show only the
/// first-run form; the public status pages never do (a server set up with tokens only still
/// shows the public its releases).
#[component]
pub fn Layout() -> impl IntoView {
    let session = expect_context::<SessionResource>();
    let location = use_location();
    let public = Memo::new(move |_| is_public_page(&location.pathname.get()));
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let public = public.get();
                match session.await {
                    Ok(info) if info.setup_needed && !public => view! { <SetupForm/> }.into_any(),
                    Ok(info) => view! {
                        <Header info=info/>
                        <main id="content"><Outlet/></main>
                    }.into_any(),
                    Err(error) => view! {
                        <main id="content">
                            <crate::components::error_panel::ErrorPanel error=error/>
                        </main>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The pages anyone may read, signed in or not, set up or not.
fn is_public_page(path: &str) -> bool {
    path == "/status" || path.starts_with("/status/")
}

#[component]
fn Header(info: SessionInfo) -> impl IntoView {
    let is_admin = info
        .user
        .as_ref()
        .is_some_and(|u| u.role.may(Permission::ManageUsers));
    view! {
        <header class="site-header">
            <a class="brand" href="/">"Sluice"</a>
            <nav aria-label="Main">
                {info.user.is_some().then(|| view! {
                    <A href="/" exact=true>"Overview"</A>
                    <A href="/dists">"Dists"</A>
                })}
                <A href="/status">"Status"</A>
                {is_admin.then(|| view! {
                    <A href="/admin/users">"Users"</A>
                    <A href="/admin/tokens">"API tokens"</A>
                    <A href="/admin/webhooks">"Webhooks"</A>
                    <A href="/admin/audit">"Audit log"</A>
                })}
            </nav>
            <div class="account">
                {match info.user {
                    Some(user) => view! {
                        <span class="signed-in-user" title=user.role.to_string()>{user.username.clone()}</span>
                        <form method="post" action="/logout" class="inline">
                            <button type="submit" class="link-button">"Sign out"</button>
                        </form>
                    }.into_any(),
                    None => view! { <a href="/login">"Sign in"</a> }.into_any(),
                }}
            </div>
        </header>
    }
}
