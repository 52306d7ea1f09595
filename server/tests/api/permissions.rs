//! Role × endpoint: every route of the HTTP edge and every server function, called by every
//! role and by nobody, answers as the permission table says. The routes come from the same
//! declarations the router is built from and the server functions from their registry, so a
//! new endpoint is covered without anyone remembering to add it (a server function without an
//! entry below fails the test).

use crate::harness::{Backend, TestApp};
use app::model::{Access, Permission, Role};
use reqwest::{Client, Method, StatusCode};

/// A value for each path parameter, and a dist in the query for the routes that take it there.
/// None of them names anything that exists: a caller who gets past the check meets a 404 or a
/// 400, never a change.
fn fill(path: &str) -> String {
    let path = path
        .replace("{dist}", "nodist")
        .replace("{id}", "987654")
        .replace("{uuid}", "00000000-0000-0000-0000-000000000000")
        .replace("{action}", "pause")
        .replace("{channel}", "stable")
        .replace("{release}", "f99")
        .replace("{branch}", "stable")
        .replace("{board}", "rpi3")
        .replace("{file}", "recalbox.version");
    format!("{path}?dist=nodist")
}

async fn call(client: &Client, method: Method, url: String) -> StatusCode {
    // The status is all that is read: a live stream's body never ends.
    let response = client
        .request(method, url)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    response.status()
}

/// Whether an answer is the edge's refusal of this caller.
fn refused(status: StatusCode) -> bool {
    status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN
}

async fn every_route_admits_exactly_the_roles_its_access_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut callers = Vec::new();
    for role in Role::ALL {
        callers.push((Some(role), app.api(&app.token(role).await)));
    }
    callers.push((None, crate::harness::client()));
    let mut endpoints = server::routes::device_routes().endpoints().to_vec();
    endpoints.extend_from_slice(server::routes::routes().endpoints());
    assert!(endpoints.len() > 50, "{} routes", endpoints.len());
    for endpoint in &endpoints {
        for (role, client) in &callers {
            let status = call(
                client,
                endpoint.method.clone(),
                app.at(&fill(&endpoint.path)),
            )
            .await;
            let what = format!(
                "{} {} as {role:?}: {status}",
                endpoint.method, endpoint.path
            );
            if endpoint.access.admits(*role) {
                // `/setup` refuses everyone once an admin exists: that is its rule, not a role's.
                if endpoint.path != "/setup" {
                    assert!(!refused(status), "{what} (admitted)");
                }
            } else if role.is_some() {
                assert_eq!(status, StatusCode::FORBIDDEN, "{what} (refused)");
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} (anonymous)");
            }
        }
    }
}

/// Who may call each server function, and arguments that get it past deserialisation
/// (so that what is tested is the permission, not the form).
fn server_function(path: &str) -> Option<(Access, &'static [(&'static str, &'static str)])> {
    use Permission::*;
    let needs = Access::Needs;
    let public = Access::PublicDistOr(ReadReleaseStream);
    const DIST: &[(&str, &str)] = &[("dist", "nodist")];
    const ID: &[(&str, &str)] = &[("id", "987654")];
    const NONE: &[(&str, &str)] = &[];
    Some(match path.strip_prefix("/rpc/")? {
        "session" => (Access::Anyone, NONE),
        // Not signed in or not an admin, the rules section is simply absent (`None`).
        "rules/list" => (Access::Anyone, DIST),
        "status/dists" => (public, NONE),
        "status/dist" => (public, DIST),
        "status/history" => (public, &[("dist", "nodist"), ("release", "f99")]),
        "status/diff" => (public, &[("dist", "nodist"), ("from", "2024-01-01")]),
        "audit/list" => (needs(ReadAudit), NONE),
        "devices/versions" => (needs(ReadDevices), DIST),
        "devices/search" => (needs(ReadDevices), DIST),
        "devices/history" => (needs(ReadDevices), &[("dist", "nodist"), ("uuid", "u")]),
        "dists/list" => (needs(ReadRegistry), NONE),
        "dists/get" => (needs(ReadRegistry), &[("name", "nodist")]),
        "dists/create" => (
            needs(ManageDists),
            &[
                ("name", "Bad Name"),
                ("version_scheme", "dated"),
                ("stable_channel", "stable"),
                ("stable_branch", "stable"),
            ],
        ),
        "mirrors/list" => (needs(ReadRegistry), DIST),
        "mirrors/add" => (
            needs(ManageMirrors),
            &[
                ("dist", "nodist"),
                ("url_template", "https://m"),
                ("weight", "1"),
            ],
        ),
        "mirrors/remove" => (
            needs(ManageMirrors),
            &[("dist", "nodist"), ("id", "987654")],
        ),
        "builds/list" => (needs(ReadRegistry), DIST),
        "builds/detail" => (needs(ReadRegistry), ID),
        "builds/page" => (needs(ReadRegistry), ID),
        "builds/register" => (
            needs(RegisterBuild),
            &[
                ("dist", "nodist"),
                ("branch", "stable"),
                ("version", "1"),
                ("base_url", "https://b"),
                ("board", "rpi3"),
                ("file1_name", "f"),
                ("file1_size", "1"),
                ("file1_sha256", "00"),
            ],
        ),
        "builds/publish" => (needs(PublishBuild), ID),
        "builds/withdraw" => (needs(WithdrawBuild), &[("id", "987654"), ("reason", "r")]),
        "releases/console" => (needs(ReadReleaseStream), DIST),
        "releases/record" => (
            needs(RecordReleaseEvent),
            &[
                ("dist", "nodist"),
                ("release", "f99"),
                ("state", "beta"),
                ("action", "add"),
            ],
        ),
        "releases/settings" => (
            needs(ConfigureReleaseStream),
            &[
                ("dist", "nodist"),
                ("stable_state", "stable"),
                ("branched_state", "branched"),
            ],
        ),
        "rules/create" => (
            needs(ManageReleaseRules),
            &[
                ("dist", "nodist"),
                ("state", "s"),
                ("on", "add"),
                ("webhook_id", "987654"),
            ],
        ),
        "rules/remove" => (needs(ManageReleaseRules), ID),
        "rollouts/list" => (needs(ReadRollouts), DIST),
        "rollouts/of_dist" => (needs(ReadRollouts), DIST),
        "rollouts/get" => (needs(ReadRollouts), ID),
        "rollouts/create" => (
            needs(SteerRollout),
            &[("dist", "nodist"), ("version", "1"), ("steps", "100")],
        ),
        "rollouts/steer" => (
            needs(SteerRollout),
            &[("id", "987654"), ("action", "pause")],
        ),
        "rollouts/bucket" => (needs(ReadRollouts), &[("id", "987654"), ("uuid", "u")]),
        "tokens/list" => (needs(ManageTokens), NONE),
        "tokens/create" => (needs(ManageTokens), &[("name", ""), ("role", "viewer")]),
        "tokens/revoke" => (needs(ManageTokens), &[("name", "nobody")]),
        "users/list" => (needs(ManageUsers), NONE),
        "users/create" => (
            needs(ManageUsers),
            &[("username", ""), ("password", "p"), ("role", "viewer")],
        ),
        "users/set_role" => (
            needs(ManageUsers),
            &[("username", "nobody"), ("role", "viewer")],
        ),
        "users/set_disabled" => (
            needs(ManageUsers),
            &[("username", "nobody"), ("disabled", "true")],
        ),
        "webhooks/list" => (needs(ManageWebhooks), NONE),
        "webhooks/create" => (needs(ManageWebhooks), &[("url", "not a url")]),
        "webhooks/set-active" => (
            needs(ManageWebhooks),
            &[("id", "987654"), ("active", "true")],
        ),
        "webhooks/deliveries" => (needs(ManageWebhooks), ID),
        "webhooks/redeliver" => (needs(ManageWebhooks), &[("delivery_id", "987654")]),
        _ => return None,
    })
}

async fn every_server_function_admits_exactly_the_roles_its_permission_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut callers = Vec::new();
    for (n, role) in Role::ALL.into_iter().enumerate() {
        callers.push((Some(role), app.signed_in(&format!("user{n}"), role).await));
    }
    callers.push((None, app.browser()));
    let paths: Vec<_> = leptos::server_fn::axum::server_fn_paths().collect();
    assert!(paths.len() > 40, "{} server functions", paths.len());
    for (path, method) in paths {
        let (access, form) = server_function(path)
            .unwrap_or_else(|| panic!("{path} has no entry in the role × endpoint table"));
        assert_eq!(method, Method::POST, "{path}");
        for (role, client) in &callers {
            let response = client.post(app.at(path)).form(form).send().await.unwrap();
            let status = response.status();
            let what = format!("{path} as {role:?}: {status}");
            if access.admits(*role) {
                assert!(!refused(status), "{what} (admitted)");
            } else if role.is_some() {
                assert_eq!(status, StatusCode::FORBIDDEN, "{what} (refused)");
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{what} (anonymous)");
            }
        }
    }
}

crate::on_both_backends!(
    every_route_admits_exactly_the_roles_its_access_names,
    every_server_function_admits_exactly_the_roles_its_permission_names,
);
