//! The device protocol of seed 000 over real HTTP.

use crate::harness::{Backend, TestApp};
use app::model::Role;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const SEED_REPORT: &str = r#"{ "board": "rpi3", "uuid": 012456789, "user": "digitallumberjack@recalbox.com", "boardversion": "master-2017-08-26-891011", "branch": "stable", "updateTimeInSeconds": 286, "status": "OK" }"#;

pub(crate) fn sha(c: char) -> String {
    c.to_string().repeat(64)
}

/// A Sluice with the recalbox dist, and an admin API client.
pub(crate) async fn recalbox(backend: Backend) -> (TestApp, Client) {
    recalbox_on(TestApp::spawn(backend).await).await
}

/// The recalbox dist on this app.
pub(crate) async fn recalbox_on(app: TestApp) -> (TestApp, Client) {
    let admin = app.api(&app.token(Role::Admin).await);
    let created = admin
        .post(app.at("/api/v1/dists"))
        .json(&json!({"name":"recalbox","version_scheme":"dated","stable_channel":"stable","stable_branch":"master","legacy_version_file":"recalbox.version"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    (app, admin)
}

/// The recalbox dist with one build, `master-2017-08-26-891011` for rpi3 (not published).
async fn recalbox_with_0826(backend: Backend) -> (TestApp, Client) {
    let (app, admin) = recalbox(backend).await;
    register(
        &app,
        &admin,
        &build("master", "master-2017-08-26-891011", &["rpi3"]),
    )
    .await;
    (app, admin)
}

pub(crate) fn build(branch: &str, version: &str, boards: &[&str]) -> Value {
    let files: serde_json::Map<String, Value> = boards
        .iter()
        .map(|b| {
            (
                b.to_string(),
                json!({"files":[{"name":"root.tar.gz","size":157286400,"sha256":sha('a')},{"name":"boot.tar.gz","size":1024,"sha256":sha('b')}]}),
            )
        })
        .collect();
    json!({"dist":"recalbox","branch":branch,"version":version,
           "base_url":format!("https://{version}-archive.recalbox.com"),"boards":files,"notes":"test"})
}

pub(crate) async fn register(app: &TestApp, client: &Client, body: &Value) -> reqwest::Response {
    client
        .post(app.at("/api/v1/builds"))
        .json(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn publish(app: &TestApp, client: &Client, version: &str) -> reqwest::Response {
    client
        .post(app.at("/api/v1/channels/recalbox/stable/publish"))
        .json(&json!({ "version": version }))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn check(app: &TestApp, query: &str) -> reqwest::Response {
    crate::harness::get(app.at(&format!("/v1/upgrade?{query}")))
        .await
        .unwrap()
}

pub(crate) const ON_0824: &str = "arch=rpi3&branch=stable&boardversion=master-2017-08-24-123456&uuid=012456789&user=digitallumberjack@recalbox.com";
const ON_0824_NO_PREFIX: &str = "arch=rpi3&branch=stable&boardversion=2017-08-24-123456&uuid=012456789&user=digitallumberjack@recalbox.com";

async fn the_seed_story_runs_end_to_end(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    assert_eq!(
        register(
            &app,
            &admin,
            &build("master", "master-2017-08-24-123456", &["rpi3"])
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        publish(&app, &admin, "master-2017-08-24-123456")
            .await
            .status(),
        StatusCode::OK
    );

    // "The answer is 204: No Content as I already have the last version."
    let up_to_date = check(&app, ON_0824).await;
    assert_eq!(up_to_date.status(), StatusCode::NO_CONTENT);
    assert!(up_to_date.bytes().await.unwrap().is_empty());

    // A new master build is registered: not offered before it is published.
    register(
        &app,
        &admin,
        &build("master", "master-2017-08-26-891011", &["rpi3"]),
    )
    .await;
    assert_eq!(check(&app, ON_0824).await.status(), StatusCode::NO_CONTENT);
    publish(&app, &admin, "master-2017-08-26-891011").await;

    // "The answer is 200 and the response has a body", even for the prefix-less boardversion.
    for query in [ON_0824, ON_0824_NO_PREFIX] {
        let offer = check(&app, query).await;
        assert_eq!(offer.status(), StatusCode::OK);
        let offer: Value = offer.json().await.unwrap();
        assert_eq!(
            offer["url"],
            "https://master-2017-08-26-891011-archive.recalbox.com"
        );
        assert_eq!(offer["version"], "master-2017-08-26-891011");
        assert_eq!(
            offer["files"][0]["url"],
            "https://master-2017-08-26-891011-archive.recalbox.com/root.tar.gz"
        );
        assert_eq!(offer["files"][0]["sha256"], sha('a'));
        assert!(offer["report_url"].as_str().unwrap().ends_with("/v1/log"));
    }

    // The device reports back, byte for byte as the seed prints it.
    let reported = crate::harness::client()
        .post(app.at("/v1/log"))
        .body(SEED_REPORT)
        .send()
        .await
        .unwrap();
    assert_eq!(reported.status(), StatusCode::OK);
    let history = app
        .get_json(&admin, "/api/v1/dists/recalbox/devices/012456789")
        .await;
    assert_eq!(
        history["device"]["current_version"],
        "master-2017-08-26-891011"
    );
    assert_eq!(history["device"]["user"], "digitallumberjack@recalbox.com");
    assert_eq!(history["reports"][0]["status"], "OK");
    assert_eq!(history["reports"][0]["update_time_seconds"], 286);

    // And on the new version it is up to date again.
    let now = "arch=rpi3&branch=stable&boardversion=master-2017-08-26-891011&uuid=012456789&user=x";
    assert_eq!(check(&app, now).await.status(), StatusCode::NO_CONTENT);
}

async fn update_checks_are_remembered_per_device(backend: Backend) {
    let (app, admin) = recalbox_with_0826(backend).await;
    publish(&app, &admin, "master-2017-08-26-891011").await;
    assert_eq!(check(&app, ON_0824).await.status(), StatusCode::OK);
    app.state.seen.flush(&app.db).await.unwrap();
    let found = app
        .get_json(&admin, "/api/v1/dists/recalbox/devices?uuid=0124")
        .await;
    assert_eq!(found[0]["uuid"], "012456789");
    assert_eq!(found[0]["current_version"], "master-2017-08-24-123456");
    assert_eq!(found[0]["last_offer_version"], "master-2017-08-26-891011");
    let counts = app
        .get_json(&admin, "/api/v1/dists/recalbox/versions")
        .await;
    assert_eq!(
        counts,
        json!([{"board":"rpi3","version":"master-2017-08-24-123456","devices":1}])
    );
}

async fn a_device_checking_in_unchanged_is_not_rewritten_at_every_flush(backend: Backend) {
    let (app, admin) = recalbox_with_0826(backend).await;
    publish(&app, &admin, "master-2017-08-26-891011").await;
    let stored = || async {
        app.state.seen.flush(&app.db).await.unwrap();
        let found = app
            .get_json(&admin, "/api/v1/dists/recalbox/devices?uuid=0124")
            .await;
        found[0].clone()
    };
    assert_eq!(check(&app, ON_0824).await.status(), StatusCode::OK);
    let first = stored().await;
    // The same check again, the same offer, a millisecond later at least: the row already says
    // all of it, so it keeps the time of the first.
    let first_seen = first["last_seen"].as_i64().unwrap();
    while app::backend::infra::clock::now_millis() <= first_seen {
        tokio::task::yield_now().await;
    }
    assert_eq!(check(&app, ON_0824).await.status(), StatusCode::OK);
    assert_eq!(stored().await["last_seen"], first["last_seen"]);
    // Updated: written at the next flush.
    let now = "arch=rpi3&branch=stable&boardversion=master-2017-08-26-891011&uuid=012456789&user=x";
    assert_eq!(check(&app, now).await.status(), StatusCode::NO_CONTENT);
    let updated = stored().await;
    assert_eq!(updated["current_version"], "master-2017-08-26-891011");
    assert!(updated["last_seen"].as_i64() > first["last_seen"].as_i64());
}

/// A burst of check-ins is written while devices report: SQLite has one write lock, and a
/// report must never fail because the check-ins hold it ("database is locked").
async fn reports_during_a_burst_of_check_ins_all_succeed(backend: Backend) {
    use app::backend::devices::check_ins::Seen;
    let (app, admin) = recalbox_with_0826(backend).await;
    let dist_id = app.state.catalog.get().dists[0].id;
    const BURST: usize = 20_000;
    for i in 0..BURST {
        let seen = Seen {
            board: "rpi3".into(),
            branch: "stable".into(),
            user: "burst".into(),
            version: "master-2017-08-24-123456".into(),
            at: 1,
            offered: None,
        };
        app.state.seen.note(dist_id, format!("burst-{i}"), seen);
    }
    let client = crate::harness::client();
    let reports = futures_util::future::join_all((0..200).map(|i| {
        let body = SEED_REPORT.replace("012456789", &format!("9{i:04}"));
        client
            .post(app.at("/v1/log"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    }));
    let (flushed, reports) = tokio::join!(app.state.seen.flush(&app.db), reports);
    // The periodic flush may have written some of them: this one waited for it.
    flushed.unwrap();
    for report in reports {
        assert_eq!(report.unwrap().status(), StatusCode::OK);
    }
    let counts = app
        .get_json(&admin, "/api/v1/dists/recalbox/versions")
        .await;
    let devices: i64 = counts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["devices"].as_i64().unwrap())
        .sum();
    assert_eq!(devices, (BURST + 200) as i64);
}

async fn a_dev_branch_build_is_offered_at_once(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    register(
        &app,
        &admin,
        &build("master", "master-2017-08-24-123456", &["rpi3"]),
    )
    .await;
    register(
        &app,
        &admin,
        &build("feature-ui", "feature-ui-2017-09-01-7", &["rpi3"]),
    )
    .await;
    let offer = check(
        &app,
        "arch=rpi3&branch=feature-ui&boardversion=master-2017-08-24-123456&uuid=1&user=u",
    )
    .await;
    assert_eq!(offer.status(), StatusCode::OK);
    let offer: Value = offer.json().await.unwrap();
    assert_eq!(offer["version"], "feature-ui-2017-09-01-7");
    // Following master directly never skips the publication step.
    let master = check(
        &app,
        "arch=rpi3&branch=master&boardversion=master-2017-08-01-1&uuid=1&user=u",
    )
    .await;
    assert_eq!(master.status(), StatusCode::NO_CONTENT);
}

async fn withdrawing_a_build_falls_back_to_the_freshest_still_allowed(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    let old: Value = register(
        &app,
        &admin,
        &build("master", "master-2017-08-25-1", &["rpi3"]),
    )
    .await
    .json()
    .await
    .unwrap();
    let new: Value = register(
        &app,
        &admin,
        &build("master", "master-2017-08-26-1", &["rpi3"]),
    )
    .await
    .json()
    .await
    .unwrap();
    publish(&app, &admin, "master-2017-08-25-1").await;
    publish(&app, &admin, "master-2017-08-26-1").await;
    let offered = |v: Value| v["version"].as_str().unwrap().to_string();
    assert_eq!(
        offered(check(&app, ON_0824).await.json().await.unwrap()),
        "master-2017-08-26-1"
    );

    // The reason's limit holds on this edge too, not only in the console.
    let too_long = admin
        .post(app.at(&format!("/api/v1/builds/{}/withdraw", new["id"])))
        .json(&json!({"reason": "x".repeat(1001)}))
        .send()
        .await
        .unwrap();
    assert_eq!(too_long.status(), StatusCode::BAD_REQUEST);
    let body: Value = too_long.json().await.unwrap();
    assert_eq!(body["error"]["field"], "reason");
    let withdrawn = admin
        .post(app.at(&format!("/api/v1/builds/{}/withdraw", new["id"])))
        .json(&json!({"reason": "bricks some boards"}))
        .send()
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), StatusCode::OK);
    assert_eq!(
        offered(check(&app, ON_0824).await.json().await.unwrap()),
        "master-2017-08-25-1"
    );

    // The reason is required on this edge as in the console.
    let no_reason = admin
        .post(app.at(&format!("/api/v1/builds/{}/withdraw", old["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(no_reason.status(), StatusCode::BAD_REQUEST);
    let body: Value = no_reason.json().await.unwrap();
    assert_eq!(body["error"]["field"], "reason");
    admin
        .post(app.at(&format!("/api/v1/builds/{}/withdraw", old["id"])))
        .json(&json!({"reason": "superseded"}))
        .send()
        .await
        .unwrap();
    assert_eq!(check(&app, ON_0824).await.status(), StatusCode::NO_CONTENT);
    let again = publish(&app, &admin, "master-2017-08-26-1").await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

async fn mirrors_spread_devices_and_old_clients_get_plain_text(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    for host in ["m1", "m2"] {
        let added = admin
            .post(app.at("/api/v1/dists/recalbox/mirrors"))
            .json(&json!({"url_template": format!("https://{host}.example/{{dist}}/{{version}}/{{board}}"), "weight": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), StatusCode::CREATED);
    }
    register(
        &app,
        &admin,
        &build("master", "master-2017-08-26-891011", &["rpi3"]),
    )
    .await;
    publish(&app, &admin, "master-2017-08-26-891011").await;

    let mut first_hosts = std::collections::HashSet::new();
    for n in 0..40 {
        let query =
            format!("arch=rpi3&branch=stable&boardversion=master-2017-08-24-1&uuid=dev{n}&user=u");
        let offer: Value = check(&app, &query).await.json().await.unwrap();
        let mirrors = offer["mirrors"].as_array().unwrap();
        assert_eq!(mirrors.len(), 3, "two mirrors and the build's own host");
        assert_eq!(offer["url"], mirrors[0]);
        first_hosts.insert(mirrors[0].as_str().unwrap().to_string());
        // Stable per device.
        let again: Value = check(&app, &query).await.json().await.unwrap();
        assert_eq!(again["url"], offer["url"]);
    }
    assert_eq!(
        first_hosts,
        [
            "https://m1.example/recalbox/master-2017-08-26-891011/rpi3",
            "https://m2.example/recalbox/master-2017-08-26-891011/rpi3"
        ]
        .into_iter()
        .map(String::from)
        .collect()
    );

    let text = crate::harness::client()
        .get(app.at(&format!("/v1/upgrade?{ON_0824}")))
        .header("accept", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::OK);
    let body = text.text().await.unwrap();
    assert!(
        body.starts_with("https://m") && !body.contains('{'),
        "{body}"
    );
}

async fn clients_without_query_parameters_read_the_legacy_version_file(backend: Backend) {
    let (app, admin) = recalbox_with_0826(backend).await;
    publish(&app, &admin, "master-2017-08-26-891011").await;
    let answer = crate::harness::get(app.at("/legacy/recalbox/stable/rpi3/recalbox.version"))
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        answer.text().await.unwrap().trim(),
        "master-2017-08-26-891011"
    );
    let wrong_file = crate::harness::get(app.at("/legacy/recalbox/stable/rpi3/other.version"))
        .await
        .unwrap();
    assert_eq!(wrong_file.status(), StatusCode::NOT_FOUND);
}

async fn bad_device_requests_get_400_404_or_413_never_500(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    register(
        &app,
        &admin,
        &build("master", "master-2017-08-24-123456", &["rpi3"]),
    )
    .await;
    publish(&app, &admin, "master-2017-08-24-123456").await;
    let cases = [
        (
            "branch=stable&boardversion=master-2017-08-24-1&uuid=1",
            StatusCode::BAD_REQUEST,
            "arch",
        ),
        (
            "arch=rpi3&branch=stable&boardversion=yesterday&uuid=1",
            StatusCode::BAD_REQUEST,
            "boardversion",
        ),
        (
            "arch=rpi3&branch=stable&boardversion=master-2017-08-24-1",
            StatusCode::BAD_REQUEST,
            "uuid",
        ),
        (
            "arch=pc&branch=stable&boardversion=master-2017-08-24-1&uuid=1",
            StatusCode::NOT_FOUND,
            "arch",
        ),
        (
            "arch=rpi3&branch=nope&boardversion=master-2017-08-24-1&uuid=1",
            StatusCode::NOT_FOUND,
            "branch",
        ),
        (
            "arch=rpi3&branch=stable&boardversion=master-2017-08-24-1&uuid=1&dist=other",
            StatusCode::NOT_FOUND,
            "dist",
        ),
    ];
    for (query, status, field) in cases {
        let response = check(&app, query).await;
        assert_eq!(response.status(), status, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{query}");
        assert!(body["error"]["message"].is_string());
    }

    let device = crate::harness::client();
    let malformed = device
        .post(app.at("/v1/log"))
        .body("{ \"board\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let bad_status = device
        .post(app.at("/v1/log"))
        .body(SEED_REPORT.replace("\"OK\"", "\"MAYBE\""))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_status.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad_status.json().await.unwrap();
    assert_eq!(body["error"]["field"], "status");
    let huge = device
        .post(app.at("/v1/log"))
        .body(vec![b' '; 70 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn build_registration_is_idempotent_and_refuses_conflicts(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    let ci = app.api(&app.token(Role::ReleaseManager).await);
    let body = build("master", "master-2017-08-26-891011", &["rpi3"]);
    let first = register(&app, &ci, &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = register(&app, &ci, &body).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);

    let mut changed = body.clone();
    changed["boards"]["rpi3"]["files"][0]["size"] = json!(1);
    assert_eq!(
        register(&app, &ci, &changed).await.status(),
        StatusCode::CONFLICT
    );

    let mut bad_version = body.clone();
    bad_version["version"] = json!("last-tuesday");
    let refused = register(&app, &admin, &bad_version).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["error"]["field"], "version");

    let mut no_url = body.clone();
    no_url["base_url"] = json!("archive.recalbox.com");
    let refused: Value = register(&app, &admin, &no_url).await.json().await.unwrap();
    assert_eq!(refused["error"]["field"], "base_url");

    let not_json = ci
        .post(app.at("/api/v1/builds"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
}

async fn only_release_managers_and_admins_register_and_publish(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    for role in [Role::Viewer, Role::Qa, Role::MeshOwner] {
        let client = app.api(&app.token(role).await);
        let body = build("master", "master-2017-08-26-1", &["rpi3"]);
        assert_eq!(
            register(&app, &client, &body).await.status(),
            StatusCode::FORBIDDEN,
            "{role}"
        );
        assert_eq!(
            publish(&app, &client, "master-2017-08-26-1").await.status(),
            StatusCode::FORBIDDEN,
            "{role}"
        );
        let dist = client
            .post(app.at("/api/v1/dists"))
            .json(&json!({"name":"x","version_scheme":"semver"}))
            .send()
            .await
            .unwrap();
        assert_eq!(dist.status(), StatusCode::FORBIDDEN);
        // Reading is open to every role.
        let list = client
            .get(app.at("/api/v1/builds?dist=recalbox"))
            .send()
            .await
            .unwrap();
        assert_eq!(list.status(), StatusCode::OK);
    }
    let audit = app.get_json(&admin, "/api/v1/audit?action=dist.").await;
    assert_eq!(audit.as_array().unwrap().len(), 1);
}

async fn reports_arriving_together_keep_their_order_per_device(backend: Backend) {
    use app::backend::devices::reports::ReportRecord;
    use app::model::device_report::DeviceReport;
    let (app, admin) = recalbox_with_0826(backend).await;
    let dist_id = app.state.catalog.get().dists[0].id;
    let record = |uuid: &str, version: &str, status: &str| {
        ReportRecord {
        dist_id,
        report: DeviceReport::parse(
            format!(r#"{{"board":"rpi3","uuid":"{uuid}","boardversion":"{version}","branch":"stable","status":"{status}"}}"#)
                .as_bytes(),
        )
        .unwrap(),
        address: "127.0.0.1".into(),
        received_at: 1,
            grants: Vec::new(),
    }
    };
    let writer = &app.state.reports;
    // Two OKs of one device in one batch, then a later report: one upsert per device still.
    let (early, a, b, c) = tokio::join!(
        writer.submit(record("x", "master-2017-08-25-1", "OK")),
        writer.submit(record("x", "master-2017-08-26-891011", "OK")),
        writer.submit(record("x", "master-2017-09-01-1", "STARTED")),
        writer.submit(record("y", "master-2017-09-01-1", "FAILED")),
    );
    early.unwrap();
    a.unwrap();
    b.unwrap();
    c.unwrap();
    let device = |uuid: &'static str| {
        let admin = admin.clone();
        let url = app.at(&format!("/api/v1/dists/recalbox/devices/{uuid}"));
        async move {
            admin
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let x = device("x").await;
    assert_eq!(x["device"]["current_version"], "master-2017-08-26-891011");
    assert_eq!(x["device"]["last_report_status"], "STARTED");
    assert_eq!(x["reports"].as_array().unwrap().len(), 3);
    let y = device("y").await;
    assert_eq!(y["device"]["last_report_status"], "FAILED");
}

/// Runs curl as Recalbox's update scripts do, answering (exit code, stdout): `-f`, so any
/// 4xx or 5xx is a failure, and no `Accept` of its own (curl sends `*/*`).
async fn recalbox_curl(args: Vec<String>) -> (i32, String) {
    tokio::task::spawn_blocking(move || {
        let output = std::process::Command::new("curl")
            .arg("-s")
            .args(&args)
            .output()
            .expect("curl runs");
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// `curl -f "$SERVICE/v1/upgrade?arch=$ARCH&boardversion=$FROM&uuid=$UUID"` (2017 scripts).
async fn can_upgrade(app: &TestApp, from: &str, uuid: &str) -> (i32, String) {
    recalbox_curl(vec![
        "-f".into(),
        app.at(&format!(
            "/v1/upgrade?arch=rpi3&boardversion={from}&uuid={uuid}"
        )),
    ])
    .await
}

/// Recalbox with `OLD_0824` and `NEW_0826` registered for rpi3 and `published` on stable.
pub(crate) async fn recalbox_with_two_builds(
    backend: Backend,
    published: &str,
) -> (TestApp, Client) {
    let (app, admin) = recalbox_on(TestApp::spawn(backend).await).await;
    for version in [OLD_0824, NEW_0826] {
        register(&app, &admin, &build("master", version, &["rpi3"])).await;
    }
    publish(&app, &admin, published).await;
    (app, admin)
}

pub(crate) const OLD_0824: &str = "master-2017-08-24-123456";
pub(crate) const NEW_0826: &str = "master-2017-08-26-891011";

async fn recalboxs_own_client_gets_204_then_a_bare_url_then_204(backend: Backend) {
    let (old, new) = (OLD_0824, NEW_0826);
    let (app, admin) = recalbox_with_two_builds(backend, old).await;
    // Up to date: 204, which curl -f takes as success with an empty body: no upgrade.
    assert_eq!(
        can_upgrade(&app, old, "012456789").await,
        (0, String::new())
    );

    publish(&app, &admin, new).await;
    let (code, body) = can_upgrade(&app, old, "012456789").await;
    assert_eq!(code, 0);
    // The whole body is the URL the client then fetches its version file under.
    assert_eq!(body, format!("https://{new}-archive.recalbox.com"));
    let version_file = format!("{body}/v1/upgrade/rpi3/recalbox.version");
    assert!(reqwest::Url::parse(&version_file).is_ok(), "{version_file}");

    // Later scripts: curl -fG --data-urlencode, and the numbered releases of 2017.
    let (code, encoded) = recalbox_curl(vec![
        "-fG".into(),
        "--data-urlencode".into(),
        "arch=rpi3".into(),
        "--data-urlencode".into(),
        "boardversion=4.1.0-0001".into(),
        "--data-urlencode".into(),
        "uuid=0abc".into(),
        app.at("/v1/upgrade"),
    ])
    .await;
    assert_eq!((code, encoded), (0, body.clone()));

    // The report after the upgrade (no branch either), then nothing more to do.
    let report = crate::harness::client()
        .post(app.at("/v1/log"))
        .body(format!(
            r#"{{ "board": "rpi3", "uuid": 012456789, "boardversion": "{new}", "updateTimeInSeconds": 286, "status": "OK" }}"#
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), StatusCode::OK);
    assert_eq!(
        can_upgrade(&app, new, "012456789").await,
        (0, String::new())
    );

    // Any failure is "no upgrade" for curl -f: an unknown board answers 404, exit code 22.
    let (code, _) = recalbox_curl(vec![
        "-f".into(),
        app.at(&format!("/v1/upgrade?arch=n64&boardversion={old}&uuid=1")),
    ])
    .await;
    assert_eq!(code, 22);

    // The seed's story (a branch given) and clients asking for JSON keep the JSON offer.
    let seed_story =
        format!("/v1/upgrade?arch=rpi3&branch=stable&boardversion={old}&uuid=1&user=u");
    let offer = app.get_json(&crate::harness::client(), &seed_story).await;
    assert_eq!(offer["version"], new);
    let asked: Value = crate::harness::client()
        .get(app.at(&format!("/v1/upgrade?arch=rpi3&boardversion={old}&uuid=1")))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(asked["version"], new);
}

/// The version a device naming no dist is offered (JSON asked for), or the status.
async fn offered_without_a_dist(app: &TestApp, version: &str) -> Result<String, StatusCode> {
    let answer = crate::harness::client()
        .get(app.at(&format!(
            "/v1/upgrade?arch=rpi3&boardversion={version}&uuid=d"
        )))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    if answer.status() != StatusCode::OK {
        return Err(answer.status());
    }
    let offer: Value = answer.json().await.unwrap();
    Ok(offer["version"].as_str().unwrap().to_string())
}

async fn a_device_naming_no_dist_gets_the_dist_of_its_board_and_version_or_the_default(
    backend: Backend,
) {
    let (app, admin) = recalbox_on(TestApp::spawn(backend).await).await;
    let dated = "master-2017-08-26-891011";
    register(&app, &admin, &build("master", dated, &["rpi3"])).await;
    publish(&app, &admin, dated).await;
    // A second dist for the same board, with semantic versions.
    let created = admin
        .post(app.at("/api/v1/dists"))
        .json(&json!({"name":"ubports","version_scheme":"semver","stable_channel":"stable","stable_branch":"main"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let mut semver = build("main", "1.0.0", &["rpi3"]);
    semver["dist"] = json!("ubports");
    assert_eq!(
        register(&app, &admin, &semver).await.status(),
        StatusCode::CREATED
    );
    let published = admin
        .post(app.at("/api/v1/channels/ubports/stable/publish"))
        .json(&json!({ "version": "1.0.0" }))
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), StatusCode::OK);

    assert_eq!(
        offered_without_a_dist(&app, "master-2017-08-24-1").await,
        Ok(dated.into())
    );
    assert_eq!(
        offered_without_a_dist(&app, "0.9.0").await,
        Ok("1.0.0".into())
    );

    // With a configured default dist, it answers every device that names none.
    let app = app
        .restart_with(|config| config.default_dist = Some("recalbox".into()))
        .await;
    assert_eq!(
        offered_without_a_dist(&app, "master-2017-08-24-1").await,
        Ok(dated.into())
    );
    assert_eq!(
        offered_without_a_dist(&app, "0.9.0").await,
        Err(StatusCode::BAD_REQUEST),
        "recalbox cannot read a semantic version"
    );
}

crate::on_both_backends!(
    a_device_checking_in_unchanged_is_not_rewritten_at_every_flush,
    reports_during_a_burst_of_check_ins_all_succeed,
    a_device_naming_no_dist_gets_the_dist_of_its_board_and_version_or_the_default,
    recalboxs_own_client_gets_204_then_a_bare_url_then_204,
    reports_arriving_together_keep_their_order_per_device,
    the_seed_story_runs_end_to_end,
    update_checks_are_remembered_per_device,
    a_dev_branch_build_is_offered_at_once,
    withdrawing_a_build_falls_back_to_the_freshest_still_allowed,
    mirrors_spread_devices_and_old_clients_get_plain_text,
    clients_without_query_parameters_read_the_legacy_version_file,
    bad_device_requests_get_400_404_or_413_never_500,
    build_registration_is_idempotent_and_refuses_conflicts,
    only_release_managers_and_admins_register_and_publish,
);
