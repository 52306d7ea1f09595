//! The Sluice console: Leptos pages and components, the typed model shared with the browser,
//! the `#[server]` functions, and (with the `ssr` feature) the backend they call.

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod backend;

use components::layout::Layout;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, SsrMode};
use pages::admin_webhooks::{WebhookPage, WebhooksPage};
use pages::status_views::{DiffPage, ReleaseHistoryPage};
use pages::{admin_audit::AuditPage, admin_tokens::TokensPage, admin_users::UsersPage};
use pages::{build_page::BuildPage, builds::DistPage, dists::DistsPage};
use pages::{devices::DevicePage, devices::DevicesPage};
use pages::{home::HomePage, login::LoginPage, not_found::NotFound};
use pages::{releases::ReleasesPage, status::StatusIndexPage, status::StatusPage};
use pages::{rollout_page::RolloutPageView, rollouts::RolloutsPage};

pub use error::AppError;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The scripts Leptos writes carry the nonce the response's policy names.
    #[cfg(feature = "ssr")]
    if let Some(nonce) = backend::edge::page_policy::request_nonce() {
        provide_context(nonce);
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="data:,"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The session as every page sees it, loaded once per page load.
pub type SessionResource = Resource<Result<model::SessionInfo, AppError>>;

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let session: SessionResource = Resource::new(|| (), |_| api::session::get_session());
    provide_context(session);
    mark_hydrated();

    view! {
        <Stylesheet id="leptos" href="/pkg/sluice.css"/>
        <Title formatter=components::page_title::format_title/>
        <Router>
            // Async: each page is rendered whole, so a failed role check can set the status.
            <Routes fallback=|| view! { <NotFound/> }>
                <ParentRoute path=path!("") view=Layout ssr=SsrMode::Async>
                    <Route path=path!("") view=HomePage/>
                    <Route path=path!("login") view=LoginPage/>
                    <Route path=path!("admin/users") view=UsersPage/>
                    <Route path=path!("admin/tokens") view=TokensPage/>
                    <Route path=path!("admin/audit") view=AuditPage/>
                    <Route path=path!("admin/webhooks") view=WebhooksPage/>
                    <Route path=path!("admin/webhooks/:id") view=WebhookPage/>
                    <Route path=path!("dists") view=DistsPage/>
                    <Route path=path!("dists/:dist") view=DistPage/>
                    <Route path=path!("dists/:dist/devices") view=DevicesPage/>
                    <Route path=path!("dists/:dist/devices/:uuid") view=DevicePage/>
                    <Route path=path!("dists/:dist/releases") view=ReleasesPage/>
                    <Route path=path!("builds/:id") view=BuildPage/>
                    <Route path=path!("dists/:dist/rollouts") view=RolloutsPage/>
                    <Route path=path!("rollouts/:id") view=RolloutPageView/>
                    <Route path=path!("status") view=StatusIndexPage/>
                    <Route path=path!("status/:dist") view=StatusPage/>
                    <Route path=path!("status/:dist/releases/:release") view=ReleaseHistoryPage/>
                    <Route path=path!("status/:dist/diff") view=DiffPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Sets `body[data-hydrated]` once the page is interactive, for people's scripts and the browser
/// tests. The timeout lets the suspended parts of the page finish hydrating first.
fn mark_hydrated() {
    Effect::new(move |_| {
        set_timeout(
            || {
                if let Some(body) = document().body() {
                    let _ = body.set_attribute("data-hydrated", "");
                }
            },
            std::time::Duration::from_millis(0),
        );
    });
}
