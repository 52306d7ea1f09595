//! The release stream of seed 004 over real HTTP: the ticket's form, the JSON API, the views at
//! any time, release.json, export and import.

use crate::harness::{Backend, TestApp};
use app::model::Role;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

/// A Sluice and a release manager's API client.
pub async fn with_release_manager(backend: Backend) -> (TestApp, Client) {
    release_manager_of(TestApp::spawn(backend).await).await
}

/// The app, and a release manager's API client on it.
pub async fn release_manager_of(app: TestApp) -> (TestApp, Client) {
    let client = app.api(&app.token(Role::ReleaseManager).await);
    (app, client)
}

pub async fn post_form(app: &TestApp, client: &Client, query: &str) -> reqwest::Response {
    client
        .post(app.at(&format!("/event?{query}")))
        .send()
        .await
        .unwrap()
}

pub async fn post_json(app: &TestApp, client: &Client, body: Value) -> reqwest::Response {
    client
        .post(app.at("/api/v1/events"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Records an event at a given time and returns the stored event.
pub async fn record(
    app: &TestApp,
    client: &Client,
    release: &str,
    state: &str,
    action: &str,
    at: &str,
) -> Value {
    let response = post_json(
        app,
        client,
        json!({"dist":"fedora","release":release,"state":state,"action":action,"at":at}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED, "{release} {state}");
    response.json().await.unwrap()
}

async fn view(app: &TestApp, client: &Client, path: &str) -> Value {
    let response = client.get(app.at(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

async fn the_tickets_event_form_records_events_and_tells_whether_the_release_was_in_the_state(
    backend: Backend,
) {
    let (app, rm) = with_release_manager(backend).await;
    let response = post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let event: Value = response.json().await.unwrap();
    assert_eq!(event["dist"], "fedora");
    assert_eq!(event["release"], "34");
    assert_eq!(event["state"], "branched");
    assert_eq!(event["action"], "entered");
    assert_eq!(event["was_in_state"], false, "0-1");
    assert!(event["at"].as_str().unwrap().ends_with('Z'));
    assert!(event["actor"].as_str().unwrap().starts_with("token:"));

    let again: Value = post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["was_in_state"], true, "1-1");
    let stray: Value = post_form(&app, &rm, "dist=fedora&release=33&state=active&reached=0")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stray["was_in_state"], false, "0-0");
    assert_eq!(stray["action"], "left");

    // The dist was created by its first event and shows up in the views.
    let states = view(&app, &rm, "/api/v1/dists/fedora/states-by-release").await;
    assert_eq!(states, json!({"34": ["branched"]}));
}

async fn writing_events_needs_a_release_manager_or_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let query = "/event?dist=fedora&release=34&state=branched&reached=1";
    let anonymous = crate::harness::client()
        .post(app.at(query))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let viewer = app.api(&app.token(Role::Viewer).await);
    let refused = viewer.post(app.at(query)).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused = post_json(
        &app,
        &viewer,
        json!({"dist":"fedora","release":"34","state":"a","action":"entered"}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let admin = app.api(&app.token(Role::Admin).await);
    assert_eq!(
        admin.post(app.at(query)).send().await.unwrap().status(),
        StatusCode::CREATED
    );
    // A release manager signed in to the console may use the form too.
    let browser = app.signed_in("rm", Role::ReleaseManager).await;
    let response = browser
        .post(app.at(query))
        .header("origin", &app.url)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn bad_input_is_answered_400_naming_the_field(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    let long = "x".repeat(65);
    let cases = [
        (
            format!("dist=fedora&release={long}&state=a&reached=1"),
            "release",
        ),
        ("dist=fedora&release=34&state=&reached=1".into(), "state"),
        ("dist=fedora&release=34&state=a&reached=2".into(), "reached"),
        (
            "dist=fedora&release=34&state=a&reached=yes".into(),
            "reached",
        ),
        ("dist=fedora&release=34&state=a".into(), "reached"),
        ("release=34&state=a&reached=1".into(), "dist"),
        (
            "dist=fedora&release=34&state=a&reached=1&at=yesterday".into(),
            "at",
        ),
        (
            "dist=fedora&release=3%0A4&state=a&reached=1".into(),
            "release",
        ),
    ];
    for (query, field) in cases {
        let response = post_form(&app, &rm, &query).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{query}");
    }
    let json_cases = [
        (
            json!({"dist":"fedora","release":"34","state":"a","action":"reached"}),
            "action",
        ),
        (
            json!({"dist":"fedora","release":"34","state":"a","action":"entered","at":"2021-13-01"}),
            "at",
        ),
        (
            json!({"dist":"fedora","release":"","state":"a","action":"entered"}),
            "release",
        ),
        (
            json!({"dist":"fedora","release":"34","state":long,"action":"entered"}),
            "state",
        ),
        (
            json!({"release":"34","state":"a","action":"entered"}),
            "dist",
        ),
        (
            json!({"dist":"fedora","release":"34","state":["a"],"action":"entered"}),
            "state",
        ),
    ];
    for (body, field) in json_cases {
        let response = post_json(&app, &rm, body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["field"], field, "{body}");
    }
    let not_json = rm
        .post(app.at("/api/v1/events"))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    // Nothing was recorded by any of these.
    let events: Value = view(&app, &rm, "/api/v1/events").await;
    assert_eq!(events, json!([]));
    // Bad view times are 400 too.
    let response = rm
        .get(app.at("/api/v1/dists/fedora/states-by-release?at=noon"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "no such dist yet");
    post_form(&app, &rm, "dist=fedora&release=34&state=a&reached=1").await;
    let response = rm
        .get(app.at("/api/v1/dists/fedora/states-by-release?at=noon"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "at");
}

/// Fedora in spring 2021, in the order people might type it (not time order).
pub async fn fedora_spring_2021(app: &TestApp, rm: &Client) {
    for (release, state, action, at) in [
        ("32", "active", "entered", "2020-04-28T14:00:00Z"),
        ("32", "stable", "entered", "2020-04-28T14:00:00Z"),
        ("33", "active", "entered", "2020-08-11T14:00:00Z"),
        ("33", "branched", "entered", "2020-08-11T14:00:00Z"),
        ("33", "branched", "left", "2020-10-27T14:00:00Z"),
        ("33", "stable", "entered", "2020-10-27T14:00:00Z"),
        ("0", "active", "entered", "2019-01-01T00:00:00Z"),
        ("0", "development", "entered", "2019-01-01T00:00:00Z"),
        ("34", "active", "entered", "2021-02-09T14:00:00Z"),
        ("34", "development", "entered", "2021-02-09T14:00:00Z"),
        ("34", "branched", "entered", "2021-02-09T14:00:00Z"),
        ("34", "pre-beta", "entered", "2021-02-09T14:00:00Z"),
        ("34", "pre-beta", "left", "2021-03-23T14:00:00Z"),
        // Entered late but backdated: written after later events, counted at its time.
        ("32", "pre-eol", "entered", "2021-04-27T14:00:00Z"),
        ("31", "active", "entered", "2019-10-29T14:00:00Z"),
        ("31", "active", "left", "2020-11-24T14:00:00Z"),
    ] {
        record(app, rm, release, state, action, at).await;
    }
}

async fn both_views_answer_now_and_at_past_times(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    fedora_spring_2021(&app, &rm).await;

    let now = rm
        .get(app.at("/api/v1/dists/fedora/states-by-release"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        now,
        r#"{"32":["active","pre-eol","stable"],"33":["active","stable"],"34":["active","branched","development"],"0":["active","development"]}"#,
        "releases in release order, rolling 0 last"
    );
    let by_state = view(&app, &rm, "/api/v1/dists/fedora/releases-by-state").await;
    assert_eq!(by_state["active"], json!(["32", "33", "34", "0"]));
    assert_eq!(by_state["branched"], json!(["34"]));
    assert_eq!(by_state["stable"], json!(["32", "33"]));

    // Autumn 2020: 33 still branched, 31 still active, 34 not yet there.
    let then = view(
        &app,
        &rm,
        "/api/v1/dists/fedora/states-by-release?at=2020-10-01T00:00:00Z",
    )
    .await;
    assert_eq!(
        then,
        json!({"31":["active"],"32":["active","stable"],"33":["active","branched"],"0":["active","development"]})
    );
    let then = view(
        &app,
        &rm,
        "/api/v1/dists/fedora/releases-by-state?at=2020-10-01T00:00:00%2B02:00",
    )
    .await;
    assert_eq!(then["active"], json!(["31", "32", "33", "0"]));
    // The instant 33 left branched it is out of it.
    let at_leave = view(
        &app,
        &rm,
        "/api/v1/dists/fedora/releases-by-state?at=2020-10-27T14:00:00Z",
    )
    .await;
    assert!(at_leave.get("branched").is_none());
    assert_eq!(at_leave["stable"], json!(["32", "33"]));

    let history = view(&app, &rm, "/api/v1/dists/fedora/releases/33/history").await;
    assert_eq!(history["current"], json!(["active", "stable"]));
    let branched = history["stays"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["state"] == "branched")
        .unwrap();
    assert_eq!(branched["entered_at"], "2020-08-11T14:00:00Z");
    assert_eq!(branched["left_at"], "2020-10-27T14:00:00Z");
    assert_eq!(branched["duration_seconds"], 77 * 24 * 3600);
    let past = view(
        &app,
        &rm,
        "/api/v1/dists/fedora/releases/33/history?at=2020-09-11T14:00:00Z",
    )
    .await;
    assert_eq!(past["current"], json!(["active", "branched"]));
    assert_eq!(past["stays"].as_array().unwrap().len(), 2);
    let missing = rm
        .get(app.at("/api/v1/dists/fedora/releases/99/history"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let diff = view(
        &app,
        &rm,
        "/api/v1/dists/fedora/diff?from=2020-10-01T00:00:00Z&to=2021-01-01T00:00:00Z",
    )
    .await;
    let transitions: Vec<String> = diff["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{} {} {}", t["release"], t["state"], t["action"]).replace('"', ""))
        .collect();
    assert_eq!(
        transitions,
        vec!["33 branched left", "33 stable entered", "31 active left"]
    );
    assert_eq!(diff["left"], json!([["31", "active"], ["33", "branched"]]));
    assert_eq!(diff["entered"], json!([["33", "stable"]]));
    let no_from = rm
        .get(app.at("/api/v1/dists/fedora/diff?to=2021-01-01T00:00:00Z"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_from.status(), StatusCode::BAD_REQUEST);
}

async fn private_dists_are_hidden_from_the_public_and_public_ones_are_open(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    fedora_spring_2021(&app, &rm).await;
    let anonymous = crate::harness::client();
    let path = "/api/v1/dists/fedora/states-by-release";
    let hidden = anonymous.get(app.at(path)).send().await.unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let viewer = app.api(&app.token(Role::Viewer).await);
    assert_eq!(
        viewer.get(app.at(path)).send().await.unwrap().status(),
        StatusCode::OK
    );
    let admin = app.api(&app.token(Role::Admin).await);
    let refused = rm
        .put(app.at("/api/v1/dists/fedora/release-settings"))
        .json(&json!({"public": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let settings = admin
        .put(app.at("/api/v1/dists/fedora/release-settings"))
        .json(&json!({"public": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(settings.status(), StatusCode::OK);
    assert_eq!(
        anonymous.get(app.at(path)).send().await.unwrap().status(),
        StatusCode::OK
    );
    let dists = app.get_json(&anonymous, "/api/v1/release-dists").await;
    assert_eq!(dists[0]["name"], "fedora");
}

async fn release_json_is_the_export_fedfind_reads(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    fedora_spring_2021(&app, &rm).await;
    record(
        &app,
        &rm,
        "eln",
        "branched",
        "entered",
        "2021-01-01T00:00:00Z",
    )
    .await;
    let admin = app.api(&app.token(Role::Admin).await);
    // Not public yet: not listed.
    let body: Value = crate::harness::get(app.at("/release.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!({}));
    admin
        .put(app.at("/api/v1/dists/fedora/release-settings"))
        .json(&json!({"public": true}))
        .send()
        .await
        .unwrap();
    let response = crate::harness::get(app.at("/release.json")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    // Only integers: fedfind takes max() of each list, which a name would break.
    assert_eq!(
        body,
        json!({"fedora": {"stable": [32, 33], "branched": [34]}})
    );
    // ELN is still branched in every other view.
    let by_state: Value = crate::harness::get(app.at("/api/v1/dists/fedora/releases-by-state"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(by_state.to_string().contains("eln"), "{by_state}");
    // As of a past time, and a bad time is refused.
    let then: Value = crate::harness::get(app.at("/release.json?at=2020-09-01T00:00:00Z"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(then, json!({"fedora": {"stable": [32], "branched": [33]}}));
    let bad = crate::harness::get(app.at("/release.json?at=soon"))
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    // The state names are configurable per dist.
    admin
        .put(app.at("/api/v1/dists/fedora/release-settings"))
        .json(&json!({"public": true, "stable_state": "active", "branched_state": "pre-eol"}))
        .send()
        .await
        .unwrap();
    let body: Value = crate::harness::get(app.at("/release.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"fedora": {"stable": [32, 33, 34, 0], "branched": [32]}})
    );
}

/// Every view of every release at every event time and just before it.
async fn every_view(app: &TestApp, client: &Client) -> Vec<Value> {
    let events: Value = view(app, client, "/api/v1/events").await;
    let mut times: Vec<String> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["at"].as_str().unwrap().to_string())
        .collect();
    times.sort();
    times.dedup();
    let mut out = vec![];
    let mut releases = std::collections::BTreeSet::new();
    for e in events.as_array().unwrap() {
        releases.insert(e["release"].as_str().unwrap().to_string());
    }
    for at in &times {
        let before = app::model::release_stream::parse_time(at).unwrap() - 1;
        let before = app::model::time_fmt::rfc3339_millis(before);
        for t in [at.clone(), before] {
            let t = t.replace('+', "%2B");
            for path in ["states-by-release", "releases-by-state"] {
                out.push(view(app, client, &format!("/api/v1/dists/fedora/{path}?at={t}")).await);
            }
            for release in &releases {
                out.push(
                    view(
                        app,
                        client,
                        &format!("/api/v1/dists/fedora/releases/{release}/history?at={t}"),
                    )
                    .await,
                );
            }
        }
    }
    out.push(
        view(
            app,
            client,
            "/api/v1/dists/fedora/diff?from=2000-01-01T00:00:00Z&to=2030-01-01T00:00:00Z",
        )
        .await,
    );
    out
}

async fn an_export_imported_into_an_empty_installation_reproduces_every_view(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    fedora_spring_2021(&app, &rm).await;
    // A stray leave and a double enter keep their "0-0" and "1-1".
    record(&app, &rm, "30", "active", "left", "2020-01-01T00:00:00Z").await;
    record(&app, &rm, "34", "active", "entered", "2021-03-01T00:00:00Z").await;
    let original = every_view(&app, &rm).await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("stream.jsonl");
    let file = file.to_str().unwrap();
    let (ok, _, stderr) = app.cli(&["events", "export", file], "").await;
    assert!(ok, "{stderr}");
    let exported = std::fs::read_to_string(file).unwrap();
    assert_eq!(exported.lines().count(), 18);
    // The API export is the same file.
    let api_export = rm
        .get(app.at("/api/v1/events?format=jsonl"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(api_export, exported);

    let fresh = TestApp::spawn(backend).await;
    let fresh_rm = fresh.api(&fresh.token(Role::ReleaseManager).await);
    let (ok, stdout, stderr) = fresh.cli(&["events", "import", file], "").await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("imported 18 events"), "{stdout}");
    assert!(stderr.contains("18/18"), "progress: {stderr}");
    assert_eq!(every_view(&fresh, &fresh_rm).await, original);
    let reimported: Value = view(&fresh, &fresh_rm, "/api/v1/events").await;
    let first: Value = view(&app, &rm, "/api/v1/events").await;
    for (a, b) in first
        .as_array()
        .unwrap()
        .iter()
        .zip(reimported.as_array().unwrap())
    {
        for key in [
            "release",
            "state",
            "action",
            "at",
            "recorded_at",
            "actor",
            "was_in_state",
        ] {
            assert_eq!(a[key], b[key], "{key}");
        }
    }
}

async fn a_malformed_line_is_refused_with_its_number_and_nothing_is_imported(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    fedora_spring_2021(&app, &rm).await;
    let export = rm
        .get(app.at("/api/v1/events?format=jsonl"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines: Vec<String> = export.lines().map(String::from).collect();
    lines[4] = lines[4]
        .replace("\"entered\"", "\"arrived\"")
        .replace("\"left\"", "\"gone\"");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();

    let fresh = TestApp::spawn(backend).await;
    let (ok, _, stderr) = fresh
        .cli(&["events", "import", file.to_str().unwrap()], "")
        .await;
    assert!(!ok);
    assert!(stderr.contains("line 5"), "{stderr}");
    let admin = fresh.api(&fresh.token(Role::Admin).await);
    let events: Value = view(&fresh, &admin, "/api/v1/events").await;
    assert_eq!(events, json!([]));
}

async fn events_can_be_read_page_by_page_since_an_id(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    fedora_spring_2021(&app, &rm).await;
    let first: Value = view(&app, &rm, "/api/v1/events?limit=5").await;
    assert_eq!(first.as_array().unwrap().len(), 5);
    let last_id = first[4]["id"].as_i64().unwrap();
    let rest: Value = view(&app, &rm, &format!("/api/v1/events?since={last_id}")).await;
    assert_eq!(rest.as_array().unwrap().len(), 11);
    assert!(rest[0]["id"].as_i64().unwrap() > last_id);
    let bad = rm
        .get(app.at("/api/v1/events?since=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

/// Writes that read before they write (a rule checks its webhook first; an event reads its
/// pair's past) all succeed side by side; on SQLite a deferred transaction would fail at once
/// with "database is locked" when another write commits in between.
async fn concurrent_writes_all_succeed_and_the_views_see_every_one(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    let admin = app.api(&app.token(Role::Admin).await);
    post_form(&app, &rm, "dist=fedora&release=1&state=active&reached=1").await;
    let (webhook, _) = crate::release_messages::add_webhook(&app, "http://127.0.0.1:9/hook").await;
    let mut tasks = Vec::new();
    for i in 0..24 {
        let (app_url, rm, admin) = (app.at(""), rm.clone(), admin.clone());
        tasks.push(tokio::spawn(async move {
            let response = if i % 2 == 0 {
                rm.post(format!(
                    "{app_url}/event?dist=fedora&release={}&state=branched&reached=1",
                    100 + i
                ))
                .send()
                .await
            } else {
                admin
                    .post(format!("{app_url}/api/v1/rules"))
                    .json(&json!({"dist": "fedora", "state": format!("s{i}"),
                                  "action": {"kind": "webhook", "webhook_id": webhook}}))
                    .send()
                    .await
            };
            response.unwrap().status()
        }));
    }
    for task in tasks {
        let status = task.await.unwrap();
        assert!(status.is_success(), "a concurrent write answered {status}");
    }
    let by_release = view(&app, &rm, "/api/v1/dists/fedora/states-by-release").await;
    assert_eq!(by_release.as_object().unwrap().len(), 13, "{by_release}");
    let rules = app.get_json(&admin, "/api/v1/rules?dist=fedora").await;
    assert_eq!(rules.as_array().unwrap().len(), 12);
}

/// After a restart the timelines are loaded in the background before anyone asks for a view.
async fn a_restarted_server_loads_the_timelines_before_the_first_view(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1").await;
    let app = app.restart().await;
    let fedora = app::backend::registry::stream_dists::find(&app.state.db, "fedora")
        .await
        .unwrap();
    app.state.timelines.until_warm().await;
    assert!(
        app.state.timelines.holds(fedora.id),
        "the fedora timeline was loaded without a request"
    );
}

/// A running server's views show events another process wrote (here `sluice events import`):
/// on PostgreSQL by the notice every new event sends, on SQLite by checking the newest event id.
async fn events_written_by_another_process_reach_a_running_servers_views(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1").await;
    let path = "/api/v1/dists/fedora/states-by-release";
    assert_eq!(view(&app, &rm, path).await, json!({"34": ["branched"]}));
    if backend == Backend::Postgres {
        app.state.timelines.until_listening().await;
    }
    assert_eq!(
        app.state.timelines.is_listening(),
        backend == Backend::Postgres
    );
    // Viewed again while listening: from now on, trusted without asking the database.
    assert_eq!(view(&app, &rm, path).await, json!({"34": ["branched"]}));

    let mut heard = app.state.timelines.changes_heard();
    heard.borrow_and_update();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.jsonl");
    let line = json!({"id": 1, "dist": "fedora", "release": "35", "state": "branched",
        "action": "entered", "at": "2021-02-09T00:00:00Z", "recorded_at": "2021-02-09T00:00:00Z",
        "actor": "elsewhere", "note": "", "was_in_state": false});
    std::fs::write(&file, format!("{line}\n")).unwrap();
    let (ok, _, stderr) = app
        .cli(&["events", "import", file.to_str().unwrap()], "")
        .await;
    assert!(ok, "{stderr}");

    // On PostgreSQL the listener hears the import's notice; on SQLite the view checks.
    if backend == Backend::Postgres {
        heard.changed().await.expect("the listener runs");
    }
    let expected = json!({"34": ["branched"], "35": ["branched"]});
    assert_eq!(view(&app, &rm, path).await, expected);
}

crate::on_both_backends!(
    events_written_by_another_process_reach_a_running_servers_views,
    a_restarted_server_loads_the_timelines_before_the_first_view,
    the_tickets_event_form_records_events_and_tells_whether_the_release_was_in_the_state,
    writing_events_needs_a_release_manager_or_admin,
    bad_input_is_answered_400_naming_the_field,
    both_views_answer_now_and_at_past_times,
    private_dists_are_hidden_from_the_public_and_public_ones_are_open,
    release_json_is_the_export_fedfind_reads,
    an_export_imported_into_an_empty_installation_reproduces_every_view,
    a_malformed_line_is_refused_with_its_number_and_nothing_is_imported,
    events_can_be_read_page_by_page_since_an_id,
    concurrent_writes_all_succeed_and_the_views_see_every_one,
);
