//! The console's registry: its server functions (as the browser calls them, form-encoded) and
//! its pages (rendered on the server), on both backends.

use crate::harness::{Backend, TestApp};
use app::model::Role;
use reqwest::{Client, StatusCode};
use serde_json::Value;

const VERSION: &str = "master-2017-08-26-891011";
const DEVICE_ON_0824: &str =
    "/v1/upgrade?arch=rpi3&branch=stable&boardversion=master-2017-08-24-123456&uuid=012456789&user=me";

/// The flat fields of the console's "Register a build" form, for `version` on `branch`.
fn hand_build<'a>(branch: &'a str, version: &'a str, sha: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("dist", "recalbox"),
        ("branch", branch),
        ("version", version),
        ("base_url", "https://archive.example.com/recalbox"),
        ("board", "rpi3"),
        ("file1_name", "root.tar.gz"),
        ("file1_size", "157286400"),
        ("file1_sha256", sha),
        ("file2_name", ""),
        ("file2_size", ""),
        ("file2_sha256", ""),
        ("notes", "registered by hand"),
    ]
}

/// A Sluice with the recalbox dist created from the console by a signed-in admin.
async fn recalbox(backend: Backend) -> (TestApp, Client) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    let created = app
        .rpc(
            &admin,
            "dists/create",
            &[
                ("name", "recalbox"),
                ("version_scheme", "dated"),
                ("stable_channel", "stable"),
                ("stable_branch", "master"),
                ("legacy_version_file", ""),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let dist: Value = created.json().await.unwrap();
    assert_eq!(dist["version_scheme"], "dated");
    assert_eq!(
        dist["legacy_version_file"],
        Value::Null,
        "an empty optional field means none"
    );
    (app, admin)
}

/// Registers a build through the console's server function and answers its id.
async fn register(app: &TestApp, client: &Client, branch: &str, version: &str) -> i64 {
    let sha = "a".repeat(64);
    let response = app
        .rpc(
            client,
            "builds/register",
            &hand_build(branch, version, &sha),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "register {version}");
    let build: Value = response.json().await.unwrap();
    build["id"].as_i64().expect("the build's id")
}

async fn page(app: &TestApp, client: &Client, path: &str) -> (StatusCode, String) {
    let response = client.get(app.at(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn a_viewer_may_read_but_not_register_publish_withdraw_or_manage(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    let id = register(&app, &admin, "master", VERSION).await.to_string();
    let viewer = app.signed_in("vera", Role::Viewer).await;
    let sha = "b".repeat(64);
    let refused = [
        (
            "builds/register",
            hand_build("master", "master-2017-08-27-1", &sha),
        ),
        ("builds/publish", vec![("id", id.as_str())]),
        (
            "builds/withdraw",
            vec![("id", id.as_str()), ("reason", "because")],
        ),
        (
            "dists/create",
            vec![
                ("name", "x"),
                ("version_scheme", "semver"),
                ("stable_channel", "stable"),
                ("stable_branch", "main"),
            ],
        ),
        (
            "mirrors/add",
            vec![
                ("dist", "recalbox"),
                ("url_template", "https://m.example/{version}"),
                ("weight", "1"),
            ],
        ),
        ("mirrors/remove", vec![("dist", "recalbox"), ("id", "1")]),
    ];
    for (endpoint, form) in refused {
        let response = app.rpc(&viewer, endpoint, &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{endpoint}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "forbidden", "{endpoint}");
    }
    // Nothing changed: the build is still unpublished and devices are offered nothing.
    let build: Value = app
        .rpc(&viewer, "builds/detail", &[("id", &id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(build["build"]["channels"], serde_json::json!([]));
    assert_eq!(build["build"]["withdrawn_at"], Value::Null);
    assert_eq!(
        crate::harness::get(app.at(DEVICE_ON_0824))
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let dists: Value = app
        .rpc(&viewer, "dists/list", &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dists.as_array().unwrap().len(), 1);

    // A release manager may register but not manage dists or mirrors.
    let rm = app.signed_in("rita", Role::ReleaseManager).await;
    let form = [
        ("dist", "recalbox"),
        ("url_template", "https://m.example/{version}"),
        ("weight", "1"),
    ];
    assert_eq!(
        app.rpc(&rm, "mirrors/add", &form).await.status(),
        StatusCode::FORBIDDEN
    );
}

async fn a_build_registered_and_published_in_the_console_is_offered_to_devices(backend: Backend) {
    let (app, _admin) = recalbox(backend).await;
    let rm = app.signed_in("rita", Role::ReleaseManager).await;
    let id = register(&app, &rm, "master", VERSION).await;
    // Registered, not yet published: not offered.
    assert_eq!(
        crate::harness::get(app.at(DEVICE_ON_0824))
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );

    let published = app
        .rpc(&rm, "builds/publish", &[("id", &id.to_string())])
        .await;
    assert_eq!(published.status(), StatusCode::OK);
    let published: Value = published.json().await.unwrap();
    assert_eq!(published["channels"], serde_json::json!(["stable"]));

    let offer = crate::harness::get(app.at(DEVICE_ON_0824)).await.unwrap();
    assert_eq!(offer.status(), StatusCode::OK);
    let offer: Value = offer.json().await.unwrap();
    assert_eq!(offer["version"], VERSION);
    assert_eq!(
        offer["files"][0]["url"],
        "https://archive.example.com/recalbox/root.tar.gz"
    );

    // The same form posted twice answers the same build rather than a conflict.
    assert_eq!(register(&app, &rm, "master", VERSION).await, id);
}

async fn only_builds_of_the_stable_branch_can_be_published(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    // The same version on another branch: publishing it must not publish master's build.
    let master = register(&app, &admin, "master", VERSION).await;
    let dev = register(&app, &admin, "dev", VERSION).await;
    let refused = app
        .rpc(&admin, "builds/publish", &[("id", &dev.to_string())])
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let detail: Value = app
        .rpc(&admin, "builds/detail", &[("id", &master.to_string())])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["build"]["channels"], serde_json::json!([]));
}

async fn withdrawing_needs_a_reason_and_stops_the_offer(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    let id = register(&app, &admin, "master", VERSION).await.to_string();
    app.rpc(&admin, "builds/publish", &[("id", &id)]).await;
    assert_eq!(
        crate::harness::get(app.at(DEVICE_ON_0824))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let no_reason = app
        .rpc(&admin, "builds/withdraw", &[("id", &id), ("reason", "  ")])
        .await;
    assert_eq!(no_reason.status(), StatusCode::BAD_REQUEST);
    let body: Value = no_reason.json().await.unwrap();
    assert_eq!(body["field"], "reason");

    let withdrawn = app
        .rpc(
            &admin,
            "builds/withdraw",
            &[("id", &id), ("reason", "bricks some boards")],
        )
        .await;
    assert_eq!(withdrawn.status(), StatusCode::OK);
    assert_eq!(
        crate::harness::get(app.at(DEVICE_ON_0824))
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    let audit = app::backend::infra::audit::list(
        &app.db,
        &app::model::AuditFilter {
            actor: None,
            action: Some("build.withdraw".into()),
            before_id: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(audit[0].detail, "bricks some boards");
    assert_eq!(audit[0].actor, "alice");
}

async fn bad_hand_registrations_name_the_field(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    let sha = "a".repeat(64);
    for (field, value, expected) in [
        ("file1_size", "big", "file1_size"),
        ("file1_sha256", "abc", "boards"),
        ("version", "last-tuesday", "version"),
        ("base_url", "archive.example.com", "base_url"),
    ] {
        let mut form = hand_build("master", VERSION, &sha);
        form.iter_mut().find(|(k, _)| *k == field).unwrap().1 = value;
        let response = app.rpc(&admin, "builds/register", &form).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{field}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["field"], expected, "{field}");
    }
}

async fn mirrors_added_in_the_console_are_offered_at_once(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    let id = register(&app, &admin, "master", VERSION).await.to_string();
    app.rpc(&admin, "builds/publish", &[("id", &id)]).await;
    let added = app
        .rpc(
            &admin,
            "mirrors/add",
            &[
                ("dist", "recalbox"),
                ("url_template", "https://m1.example/{dist}/{version}"),
                ("weight", "1"),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let mirror: Value = added.json().await.unwrap();
    let offer: Value = crate::harness::get(app.at(DEVICE_ON_0824))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        offer["url"],
        format!("https://m1.example/recalbox/{VERSION}")
    );

    let mirror_id = mirror["id"].to_string();
    let removed = app
        .rpc(
            &admin,
            "mirrors/remove",
            &[("dist", "recalbox"), ("id", &mirror_id)],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    let offer: Value = crate::harness::get(app.at(DEVICE_ON_0824))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(offer["url"], "https://archive.example.com/recalbox");
}

async fn the_pages_render_builds_and_devices_on_the_server(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    let id = register(&app, &admin, "master", VERSION).await;
    app.rpc(&admin, "builds/publish", &[("id", &id.to_string())])
        .await;
    let viewer = app.signed_in("vera", Role::Viewer).await;

    let (status, dists) = page(&app, &viewer, "/dists").await;
    assert_eq!(status, StatusCode::OK);
    assert!(dists.contains(r#"href="/dists/recalbox""#), "{dists}");
    assert!(!dists.contains("Create dist"), "viewers see no create form");

    let (status, dist) = page(&app, &viewer, "/dists/recalbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        dist.contains(VERSION) && dist.contains(&format!(r#"href="/builds/{id}""#)),
        "{dist}"
    );
    assert!(!dist.contains("Register build") && !dist.contains("Add mirror"));
    let (_, as_admin) = page(&app, &admin, "/dists/recalbox").await;
    assert!(as_admin.contains("Register build") && as_admin.contains("Add mirror"));
    let (_, filtered) = page(&app, &viewer, "/dists/recalbox?branch=dev").await;
    assert!(
        !filtered.contains(&format!(r#"href="/builds/{id}""#))
            && filtered.contains("No builds match.")
    );

    let (status, build) = page(&app, &viewer, &format!("/builds/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(build.contains(VERSION) && build.contains("150.0 MiB") && build.contains("stable"));
    assert!(
        !build.contains("Confirm: withdraw"),
        "viewers see no decisions"
    );
    let (_, as_admin) = page(&app, &admin, &format!("/builds/{id}")).await;
    assert!(as_admin.contains("Confirm: withdraw"));
    assert!(!as_admin.contains("Confirm: publish"), "already published");

    assert_eq!(
        crate::harness::get(app.at(DEVICE_ON_0824))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    app.state.seen.flush(&app.db).await.unwrap();
    let (status, devices) = page(&app, &viewer, "/dists/recalbox/devices").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        devices.contains(r#"href="/dists/recalbox/devices/012456789""#),
        "{devices}"
    );
    assert!(devices.contains("master-2017-08-24-123456") && devices.contains("1 device"));
    let (_, none) = page(&app, &viewer, "/dists/recalbox/devices?uuid=999").await;
    assert!(none.contains("No devices match."));
    let (status, device) = page(&app, &viewer, "/dists/recalbox/devices/012456789").await;
    assert_eq!(status, StatusCode::OK);
    assert!(device.contains("This device has not reported an update yet."));

    for missing in [
        "/dists/nope",
        "/builds/999",
        "/builds/abc",
        "/dists/recalbox/devices/nobody",
    ] {
        let (status, body) = page(&app, &viewer, missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert!(body.contains("Not found"), "{missing}");
    }
    let (status, _) = page(&app, &app.browser(), "/dists/recalbox").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

crate::on_both_backends!(
    a_viewer_may_read_but_not_register_publish_withdraw_or_manage,
    a_build_registered_and_published_in_the_console_is_offered_to_devices,
    only_builds_of_the_stable_branch_can_be_published,
    withdrawing_needs_a_reason_and_stops_the_offer,
    bad_hand_registrations_name_the_field,
    mirrors_added_in_the_console_are_offered_at_once,
    the_pages_render_builds_and_devices_on_the_server,
);
