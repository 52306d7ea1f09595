//! The release stream in the console and on the public status pages (rendered on the server,
//! so these also prove the pages work without JavaScript).

use crate::harness::{Backend, TestApp};
use crate::release_stream::{fedora_spring_2021, record, with_release_manager};
use app::model::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn make_public(app: &TestApp) {
    set_public(app, true).await
}

/// Makes fedora's release stream public, or private again.
pub(crate) async fn set_public(app: &TestApp, public: bool) {
    let admin = app.api(&app.token(Role::Admin).await);
    let response = admin
        .put(app.at("/api/v1/dists/fedora/release-settings"))
        .json(&json!({ "public": public }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let response = client.get(app.at(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn the_public_status_page_shows_releases_states_and_timeline_without_signing_in(
    backend: Backend,
) {
    let (app, rm) = with_release_manager(backend).await;
    // Someone must exist, or the console shows the first-run form.
    app.add_user("alice", Role::Admin).await;
    fedora_spring_2021(&app, &rm).await;
    let anonymous = app.browser();
    let (status, _) = page(&app, &anonymous, "/status/fedora").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not public yet");
    let (_, index) = page(&app, &anonymous, "/status").await;
    assert!(!index.contains("/status/fedora"));

    make_public(&app).await;
    let (status, index) = page(&app, &anonymous, "/status").await;
    assert_eq!(status, StatusCode::OK);
    assert!(index.contains("href=\"/status/fedora\""), "{index}");
    let (status, html) = page(&app, &anonymous, "/status/fedora").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-release=\"34\""), "{html}");
    assert!(html.contains("0 (rolling)"));
    assert!(html.contains(">branched<"));
    assert!(html.contains("<svg"), "the timeline chart");
    assert!(
        html.contains("34 · pre-beta"),
        "a row per release and state"
    );
    assert!(html.contains("31 · active"), "{html}");

    // The chart covers the year before the newest change: a stay that ended earlier is left
    // out, so the page stays small however long the stream grows.
    record(&app, &rm, "30", "eol", "entered", "2018-01-01T00:00:00Z").await;
    record(&app, &rm, "30", "eol", "left", "2019-05-01T00:00:00Z").await;
    let (_, html) = page(&app, &anonymous, "/status/fedora").await;
    assert!(!html.contains("30 · eol"), "{html}");
    assert!(html.contains("31 · active"));
}

async fn the_atom_feed_lists_the_newest_events_of_a_public_dist(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    fedora_spring_2021(&app, &rm).await;
    let hidden = crate::harness::get(app.at("/status/fedora/feed.atom"))
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    make_public(&app).await;
    let response = crate::harness::get(app.at("/status/fedora/feed.atom"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    let body = response.text().await.unwrap();
    assert!(body.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"));
    assert_eq!(body.matches("<entry>").count(), 16);
    assert!(
        body.contains("<title>fedora 31 left active</title>"),
        "{body}"
    );
}

async fn a_release_manager_records_an_event_from_the_console_and_sees_who_did_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rm = app.signed_in("adamwill", Role::ReleaseManager).await;
    let response = app
        .rpc(
            &rm,
            "releases/record",
            &[
                ("dist", "fedora"),
                ("release", "34"),
                ("state", "branched"),
                ("action", "entered"),
                ("note", "mass branching done"),
                ("at", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let event: Value = response.json().await.unwrap();
    assert_eq!(event["actor"], "adamwill");
    assert_eq!(event["was_in_state"], false);

    let bad = app
        .rpc(
            &rm,
            "releases/record",
            &[
                ("dist", "fedora"),
                ("release", ""),
                ("state", "branched"),
                ("action", "entered"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    let (status, html) = page(&app, &rm, "/dists/fedora/releases").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Record an event"));
    assert!(html.contains("mass branching done"));
    assert!(html.contains("adamwill"));

    // A viewer reads the page but gets no form, and cannot record.
    let viewer = app.signed_in("vic", Role::Viewer).await;
    let (status, html) = page(&app, &viewer, "/dists/fedora/releases").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Record an event"));
    let refused = app
        .rpc(
            &viewer,
            "releases/record",
            &[
                ("dist", "fedora"),
                ("release", "34"),
                ("state", "branched"),
                ("action", "left"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

async fn an_admin_adds_and_removes_a_rule_from_the_console(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    let api = app.api(&app.token(Role::Admin).await);
    api.post(app.at("/event?dist=fedora&release=33&state=active&reached=1"))
        .send()
        .await
        .unwrap();
    let https = api
        .post(app.at("/api/v1/webhooks"))
        .json(&json!({"url": "https://hooks.example/sluice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        https.status(),
        StatusCode::CREATED,
        "https webhooks are delivered over rustls"
    );
    let hook: Value = api
        .post(app.at("/api/v1/webhooks"))
        .json(&json!({"url": "http://127.0.0.1:9/hook"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = hook["webhook"]["id"].to_string();
    let created = app
        .rpc(
            &admin,
            "rules/create",
            &[
                ("dist", "fedora"),
                ("state", "stable"),
                ("on", "entered"),
                ("webhook_id", &id),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let rule: Value = created.json().await.unwrap();
    let (status, html) = page(&app, &admin, "/dists/fedora/releases").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Add rule"), "{html}");
    assert!(html.contains("stable</strong>"), "{html}");
    let removed = app
        .rpc(&admin, "rules/remove", &[("id", &rule["id"].to_string())])
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    let rules = app.get_json(&api, "/api/v1/rules?dist=fedora").await;
    assert_eq!(rules[0]["active"], false);
}

/// The views as pages, each at a time, rendered on the server (so they work without JavaScript).
async fn the_status_pages_show_every_view_at_a_time(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    app.add_user("alice", Role::Admin).await;
    fedora_spring_2021(&app, &rm).await;
    make_public(&app).await;
    let anonymous = app.browser();

    let (status, html) = page(&app, &anonymous, "/status/fedora?at=2020-09-01T00:00:00Z").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("At 2020-09-01 00:00:00 UTC"), "{html}");
    assert!(html.contains("data-release=\"33\""));
    assert!(
        !html.contains("data-release=\"34\""),
        "34 did not exist yet"
    );
    assert!(
        html.contains("data-state=\"branched\""),
        "the by-state table"
    );
    assert!(html.contains("href=\"/status/fedora/releases/33?at=2020-09-01T00:00:00Z\""));
    let (status, html) = page(&app, &anonymous, "/status/fedora?at=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("not an RFC 3339 time"), "{html}");

    let (status, html) = page(
        &app,
        &anonymous,
        "/status/fedora/releases/33?at=2021-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("2020-10-27 14:00:00 UTC"),
        "branched left then: {html}"
    );
    assert!(
        html.contains("77 d 0 h"),
        "the branched stay lasted 77 days"
    );
    assert!(html.contains("still in it"));
    let (status, _) = page(&app, &anonymous, "/status/fedora/releases/99").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, html) = page(
        &app,
        &anonymous,
        "/status/fedora/diff?from=2020-10-01T00:00:00Z&to=2021-01-01T00:00:00Z",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("3 transitions."), "{html}");
    assert!(
        html.contains("Entered: 33 stable. Left: 31 active, 33 branched."),
        "{html}"
    );
    let (_, html) = page(&app, &anonymous, "/status/fedora/diff").await;
    assert!(html.contains("Pick the times to compare."));
}

async fn the_public_pages_show_before_the_first_user_exists(backend: Backend) {
    // Set up from the command line with tokens only: nobody has signed up in the console.
    let (app, rm) = with_release_manager(backend).await;
    fedora_spring_2021(&app, &rm).await;
    make_public(&app).await;
    let anonymous = app.browser();
    for path in ["/status", "/status/fedora", "/status/fedora/releases/34"] {
        let (status, html) = page(&app, &anonymous, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !html.contains("Create the first administrator"),
            "{path}: {html}"
        );
    }
    let (_, html) = page(&app, &anonymous, "/status/fedora").await;
    assert!(html.contains("data-release=\"34\""), "{html}");
    // The console's own pages still ask for the first administrator.
    let (_, home) = page(&app, &anonymous, "/").await;
    assert!(home.contains("Create the first administrator"));
    let feed = crate::harness::get(app.at("/status/fedora/feed.atom"))
        .await
        .unwrap();
    assert_eq!(feed.status(), StatusCode::OK);
}

crate::on_both_backends!(
    the_public_pages_show_before_the_first_user_exists,
    the_status_pages_show_every_view_at_a_time,
    the_public_status_page_shows_releases_states_and_timeline_without_signing_in,
    the_atom_feed_lists_the_newest_events_of_a_public_dist,
    a_release_manager_records_an_event_from_the_console_and_sees_who_did_it,
    an_admin_adds_and_removes_a_rule_from_the_console,
);
