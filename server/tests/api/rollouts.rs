//! Canary rollouts over real HTTP: cohorts, ramp, automatic halt, caps, rollback, supersede.

use crate::devices::{build, check, publish, recalbox, recalbox_on, register};
use crate::harness::{Backend, TestApp};
use app::model::rollout::{bucket, in_cohort};
use app::model::Role;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub const OLD: &str = "master-2017-08-24-123456";
pub const NEW: &str = "master-2017-08-26-891011";
const NEWER: &str = "master-2017-08-27-1";

/// Recalbox with `OLD` published to stable and `NEW` (and `NEWER`) registered.
pub async fn fleet(app: TestApp) -> (TestApp, Client) {
    let (app, admin) = recalbox_on(app).await;
    for version in [OLD, NEW, NEWER] {
        let created = register(&app, &admin, &build("master", version, &["rpi3"])).await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    assert_eq!(publish(&app, &admin, OLD).await.status(), StatusCode::OK);
    (app, admin)
}

pub async fn start(app: &TestApp, client: &Client, policy: Value) -> Value {
    let response = client
        .post(app.at("/api/v1/rollouts"))
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{:?}",
        response.text().await
    );
    response.json().await.unwrap()
}

async fn steer(
    app: &TestApp,
    client: &Client,
    id: i64,
    action: &str,
    body: Value,
) -> reqwest::Response {
    client
        .post(app.at(&format!("/api/v1/rollouts/{id}/{action}")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Starts a rollout and answers its id.
pub async fn start_id(app: &TestApp, client: &Client, policy: Value) -> i64 {
    start(app, client, policy).await["id"]
        .as_i64()
        .expect("the rollout's id")
}

pub async fn state_of(app: &TestApp, client: &Client, id: i64) -> Value {
    app.get_json(client, &format!("/api/v1/rollouts/{id}"))
        .await
}

pub async fn history_of(app: &TestApp, client: &Client, id: i64) -> Vec<Value> {
    let history = app
        .get_json(client, &format!("/api/v1/rollouts/{id}/history"))
        .await;
    history.as_array().unwrap().clone()
}

/// Drives the rollout job a policy minute further each pass (at most 150 passes) until the
/// rollout is in `state`, answering its view: holds and timeouts pass without being waited for.
async fn until_state(app: &TestApp, client: &Client, id: i64, state: &str) -> Value {
    let start = app::backend::infra::clock::now_millis();
    for pass in 0..150 {
        app.tick_at(start + pass * app.config.minute_ms).await;
        let view = state_of(app, client, id).await;
        if view["state"] == state {
            return view;
        }
    }
    panic!(
        "rollout {id} never became {state}: {}",
        state_of(app, client, id).await
    );
}

pub fn on(version: &str, uuid: &str) -> String {
    format!("arch=rpi3&branch=stable&boardversion={version}&uuid={uuid}&user=t")
}

/// Every device of `uuids` checks once (32 at a time); answers the uuids offered `NEW`-or-later
/// and the statuses seen.
async fn checks(
    app: &TestApp,
    uuids: &[String],
    version: &str,
) -> (BTreeSet<String>, Vec<StatusCode>) {
    let mut offered = BTreeSet::new();
    let mut statuses = Vec::new();
    for chunk in uuids.chunks(32) {
        let mut calls = tokio::task::JoinSet::new();
        for uuid in chunk {
            let url = app.at(&format!("/v1/upgrade?{}", on(version, uuid)));
            let uuid = uuid.clone();
            calls.spawn(async move { (uuid, crate::harness::get(url).await.unwrap().status()) });
        }
        while let Some(done) = calls.join_next().await {
            let (uuid, status) = done.unwrap();
            if status == StatusCode::OK {
                offered.insert(uuid);
            }
            statuses.push(status);
        }
    }
    (offered, statuses)
}

fn uuids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("box-{i:05}")).collect()
}

pub async fn report(app: &TestApp, uuid: &str, version: &str, status: &str) {
    let body = format!(
        r#"{{"board":"rpi3","uuid":"{uuid}","user":"t","boardversion":"{version}","branch":"stable","status":"{status}"}}"#
    );
    let answer = crate::harness::client()
        .post(app.at("/v1/log"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}

async fn a_ten_percent_rollout_offers_exactly_the_predicted_devices_and_fifty_keeps_them(
    backend: Backend,
) {
    let (app, admin) = fleet(TestApp::spawn(backend).await).await;
    let rollout = start(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,"cohort_salt":"fleet-1",
               "steps":[{"percent":10,"hold_minutes":600},{"percent":50,"hold_minutes":600},{"percent":100}]}),
    )
    .await;
    assert_eq!(rollout["state"], "running");
    assert_eq!(rollout["percent"], 10.0);
    let id = rollout["id"].as_i64().unwrap();
    let fleet = uuids(2000);
    let predicted = |percent: f64| -> BTreeSet<String> {
        fleet
            .iter()
            .filter(|u| in_cohort(bucket("fleet-1", u), percent))
            .cloned()
            .collect()
    };

    let (at_ten, _) = checks(&app, &fleet, OLD).await;
    assert_eq!(at_ten, predicted(10.0));
    assert!((150..250).contains(&at_ten.len()), "{}", at_ten.len());

    let raised = steer(
        &app,
        &admin,
        id,
        "percent",
        json!({"percent":50,"reason":"looks good"}),
    )
    .await;
    assert_eq!(raised.status(), StatusCode::OK);
    let (at_fifty, _) = checks(&app, &fleet, OLD).await;
    assert_eq!(at_fifty, predicted(50.0));
    assert!(
        at_ten.is_subset(&at_fifty),
        "raising the percent never removes a device"
    );

    let view = state_of(&app, &admin, id).await;
    assert_eq!(view["counts"]["offered"], at_fifty.len() as u64);
    let probe = &fleet[0];
    let bucket_view = app
        .get_json(
            &admin,
            &format!("/api/v1/rollouts/{id}/bucket?uuid={probe}"),
        )
        .await;
    assert_eq!(bucket_view["bucket"], bucket("fleet-1", probe));
    assert_eq!(bucket_view["in_cohort"], at_fifty.contains(probe));
}

async fn a_burst_of_failed_reports_halts_the_rollout_and_new_devices_get_204(backend: Backend) {
    let (app, admin) = fleet(TestApp::spawn(backend).await).await;
    let id = start_id(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,"cohort_salt":"burst",
               "steps":[{"percent":50,"hold_minutes":600},{"percent":100}],
               "health":{"min_reports":5,"max_failure_ratio":0.2}}),
    )
    .await;
    let fleet = uuids(200);
    let (offered, _) = checks(&app, &fleet[..100], OLD).await;
    assert!(offered.len() > 20, "{}", offered.len());
    let offered: Vec<&String> = offered.iter().collect();
    for uuid in &offered[..5] {
        report(&app, uuid, OLD, "STARTED").await;
        report(&app, uuid, OLD, "FAILED").await;
    }
    let halted = until_state(&app, &admin, id, "halted").await;
    let reason = halted["halt_reason"].as_str().unwrap();
    assert!(reason.contains("5 of 5"), "{reason}");
    assert_eq!(halted["counts"]["failed"], 5);

    // No new offers, and devices offered the build that have not started lose it.
    let (after, _) = checks(&app, &fleet[100..], OLD).await;
    assert!(after.is_empty(), "{after:?}");
    let not_started = offered[10];
    assert_eq!(
        check(&app, &on(OLD, not_started)).await.status(),
        StatusCode::NO_CONTENT
    );

    let history = history_of(&app, &admin, id).await;
    let last = history.last().unwrap().clone();
    assert_eq!(last["action"], "halt");
    assert_eq!(last["actor"], "sluice");
    assert!(last["reason"].as_str().unwrap().contains("5 of 5"));

    // Resumed, it still tells why it last halted.
    let resumed = steer(
        &app,
        &admin,
        id,
        "resume",
        json!({"reason":"bad batch replaced"}),
    )
    .await;
    assert_eq!(resumed.status(), StatusCode::OK);
    let resumed: Value = resumed.json().await.unwrap();
    assert!(
        resumed["halt_reason"].as_str().unwrap().contains("5 of 5"),
        "{resumed}"
    );
}

async fn caps_hold_under_concurrent_checks(backend: Backend) {
    let (app, admin) = fleet(TestApp::spawn(backend).await).await;
    start(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":100,"hold_minutes":60}],"max_grants_per_hour":25}),
    )
    .await;
    let (offered, statuses) = checks(&app, &uuids(300), OLD).await;
    assert_eq!(offered.len(), 25);
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::NO_CONTENT)
            .count(),
        275
    );
    let capped = check(&app, &on(OLD, "late-comer")).await;
    assert_eq!(capped.status(), StatusCode::NO_CONTENT);
    let retry: u64 = capped.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");

    // A newer rollout with an in-flight cap: at most 10 devices between offer and outcome.
    let id = start_id(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEWER,
               "steps":[{"percent":100,"hold_minutes":60}],"max_in_flight":10}),
    )
    .await;
    let fleet = uuids(100);
    let (offered, _) = checks(&app, &fleet, OLD).await;
    assert_eq!(offered.len(), 10);
    let first = offered.iter().next().unwrap().clone();
    report(&app, &first, NEWER, "OK").await;
    let view = state_of(&app, &admin, id).await;
    assert_eq!(view["counts"]["succeeded"], 1);
    assert_eq!(view["in_flight"], 9);
    // The freed place comes back with the rollout job's next pass (which every replica runs
    // about once a second: it renews this replica's slice of the caps).
    app.tick().await;
    let (more, _) = checks(&app, &fleet, OLD).await;
    assert_eq!(more.len(), 10, "one outcome frees one place");
    assert!(!more.contains(&first) && more != offered);
}

async fn rollback_points_the_channel_back_at_the_previous_build(backend: Backend) {
    let (app, admin) = fleet(TestApp::spawn(backend).await).await;
    let rollout = start(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,"steps":[{"percent":100}]}),
    )
    .await;
    assert_eq!(
        rollout["state"], "completed",
        "a plain 100% rollout is a publish"
    );
    let id = rollout["id"].as_i64().unwrap();
    let offer: Value = check(&app, &on(OLD, "b1")).await.json().await.unwrap();
    assert_eq!(offer["version"], NEW);

    let refused = steer(&app, &admin, id, "rollback", json!({})).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["field"], "reason");

    let rolled = steer(
        &app,
        &admin,
        id,
        "rollback",
        json!({"reason":"boot loops on rpi3"}),
    )
    .await;
    assert_eq!(rolled.status(), StatusCode::OK);
    let rolled: Value = rolled.json().await.unwrap();
    assert_eq!(rolled["state"], "rolled_back");
    assert_eq!(
        check(&app, &on(OLD, "b1")).await.status(),
        StatusCode::NO_CONTENT
    );
    let again = steer(&app, &admin, id, "rollback", json!({"reason":"twice"})).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let audit = app
        .get_json(&admin, "/api/v1/audit?action=rollout.rollback")
        .await;
    assert!(audit.to_string().contains("boot loops on rpi3"), "{audit}");
}

async fn a_newer_rollout_supersedes_the_older_and_its_devices_move_on(backend: Backend) {
    let (app, admin) = fleet(TestApp::spawn(backend).await).await;
    let first = start(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,"steps":[{"percent":100,"hold_minutes":600}]}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let offer: Value = check(&app, &on(OLD, "mover")).await.json().await.unwrap();
    assert_eq!(offer["version"], NEW);
    report(&app, "mover", NEW, "OK").await;

    let second = start(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEWER,"steps":[{"percent":100,"hold_minutes":600}]}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(state_of(&app, &admin, first).await["state"], "superseded");
    assert_eq!(state_of(&app, &admin, second).await["state"], "running");
    for from in [NEW, OLD] {
        let offer: Value = check(&app, &on(from, "mover")).await.json().await.unwrap();
        assert_eq!(offer["version"], NEWER, "from {from}");
    }
}

async fn a_healthy_step_advances_by_itself_after_its_hold(backend: Backend) {
    // A rehearsal: a policy minute lasts 100 ms.
    let (app, admin) = fleet(TestApp::spawn_with_minute(backend, 100).await).await;
    let id = start_id(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":5,"hold_minutes":2},{"percent":30,"hold_minutes":2},{"percent":100}]}),
    )
    .await;
    let done = until_state(&app, &admin, id, "completed").await;
    assert_eq!(done["percent"], 100.0);
    let history = history_of(&app, &admin, id).await;
    let actions: Vec<&str> = history
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["create", "advance", "advance", "complete"]);
    let offer: Value = check(&app, &on(OLD, "anyone")).await.json().await.unwrap();
    assert_eq!(offer["version"], NEW, "completed means published");
}

async fn only_release_managers_steer_and_bad_policies_name_their_field(backend: Backend) {
    let (app, admin) = recalbox(backend).await;
    register(&app, &admin, &build("master", NEW, &["rpi3"])).await;
    let policy = json!({"dist":"recalbox","channel":"stable","version":NEW,"steps":[{"percent":10,"hold_minutes":5},{"percent":100}]});
    for role in [Role::Viewer, Role::Qa, Role::MeshOwner] {
        let client = app.api(&app.token(role).await);
        let refused = client
            .post(app.at("/api/v1/rollouts"))
            .json(&policy)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{role:?}");
    }
    let manager = app.api(&app.token(Role::ReleaseManager).await);
    let id = start(&app, &manager, policy.clone()).await["id"]
        .as_i64()
        .unwrap();
    let viewer = app.api(&app.token(Role::Viewer).await);
    assert_eq!(state_of(&app, &viewer, id).await["id"], id);
    let paused = steer(&app, &viewer, id, "pause", json!({"reason":"no"})).await;
    assert_eq!(paused.status(), StatusCode::FORBIDDEN);

    for (body, field) in [
        (
            json!({"dist":"recalbox","channel":"stable","version":NEW,"steps":[]}),
            "steps",
        ),
        (
            json!({"dist":"recalbox","channel":"stable","version":NEW,"steps":[{"percent":50},{"percent":10}]}),
            "steps",
        ),
        (
            json!({"dist":"recalbox","channel":"beta","version":NEW,"steps":[{"percent":100}]}),
            "channel",
        ),
        (
            json!({"dist":"recalbox","channel":"stable","version":"master-2030-01-01-1","steps":[{"percent":100}]}),
            "version",
        ),
        (
            json!({"dist":"nope","channel":"stable","version":NEW,"steps":[{"percent":100}]}),
            "dist",
        ),
        (
            json!({"dist":"recalbox","channel":"stable","version":NEW,"steps":[{"percent":100}],"health":{"min_reports":1,"max_failure_ratio":2}}),
            "health.max_failure_ratio",
        ),
        (
            json!({"dist":"recalbox","channel":"stable","version":NEW}),
            "body",
        ),
    ] {
        let refused = manager
            .post(app.at("/api/v1/rollouts"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = refused.json().await.unwrap();
        assert_eq!(error["error"]["field"], field, "{body}");
    }
    let pause = steer(&app, &manager, id, "pause", json!({"reason":"weekend"})).await;
    assert_eq!(pause.status(), StatusCode::OK);
    assert_eq!(
        steer(&app, &manager, id, "explode", json!({"reason":"x"}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

/// Runs `sluice simulate` against the app, 600 times faster than life.
async fn simulate(app: &TestApp, extra: &[&str]) -> String {
    let mut args = vec![
        "simulate",
        "--server",
        &app.url,
        "--dist",
        "recalbox",
        "--channel",
        "stable",
        "--board",
        "rpi3",
        "--speedup",
        "600",
    ];
    args.extend_from_slice(extra);
    let (ok, stdout, stderr) = app.cli(&args, "").await;
    assert!(ok, "{stderr}");
    stdout
}

async fn the_simulator_takes_a_healthy_fleet_to_100_percent_on_its_own(backend: Backend) {
    let (app, admin) = fleet(TestApp::spawn_with_minute(backend, 100).await).await;
    let id = start_id(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":10,"hold_minutes":3},{"percent":50,"hold_minutes":3},{"percent":100}],
               "health":{"min_reports":3,"max_failure_ratio":0.1},"update_timeout_minutes":30}),
    )
    .await;
    let out = simulate(
        &app,
        &[
            "--devices",
            "60",
            "--failure-rate",
            "0",
            "--from",
            OLD,
            "--minutes",
            "150",
        ],
    )
    .await;
    assert!(out.contains(&format!("60 devices on {NEW}")), "{out}");
    let done = until_state(&app, &admin, id, "completed").await;
    assert_eq!(done["counts"]["failed"], 0);
    let history = history_of(&app, &admin, id).await;
    let automatic: Vec<&str> = history
        .iter()
        .filter(|e| e["actor"] == "sluice")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(automatic, ["advance", "advance", "complete"]);
}

async fn the_simulator_shows_a_fleet_with_30_percent_failures_halting_in_the_first_step(
    backend: Backend,
) {
    let (app, admin) = fleet(TestApp::spawn_with_minute(backend, 100).await).await;
    let id = start_id(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":25,"hold_minutes":600},{"percent":100}],
               "health":{"min_reports":10,"max_failure_ratio":0.1}}),
    )
    .await;
    // No --from: the devices start below every build, as the dist's scheme allows.
    let out = simulate(
        &app,
        &[
            "--devices",
            "200",
            "--failure-rate",
            "0.3",
            "--minutes",
            "40",
        ],
    )
    .await;
    assert!(out.contains("FAILED"), "{out}");
    let halted = until_state(&app, &admin, id, "halted").await;
    assert_eq!(halted["current_step"], 0);
    assert!(
        halted["counts"]["failed"].as_u64().unwrap() >= 2,
        "{halted}"
    );
    assert!(halted["halt_reason"]
        .as_str()
        .unwrap()
        .contains("over the 10.0% limit"));
}

async fn a_device_that_never_reports_times_out_and_counts_as_a_failure(backend: Backend) {
    // A rehearsal: a policy minute lasts 100 ms, so the 1-minute timeout is 100 ms.
    let (app, admin) = fleet(TestApp::spawn_with_minute(backend, 100).await).await;
    let id = start_id(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":100,"hold_minutes":100000}],"update_timeout_minutes":1,
               "health":{"min_reports":1,"max_failure_ratio":0.0}}),
    )
    .await;
    assert_eq!(
        check(&app, &on(OLD, "silent")).await.status(),
        StatusCode::OK
    );
    let halted = until_state(&app, &admin, id, "halted").await;
    assert_eq!(halted["counts"]["timed_out"], 1);
    assert!(halted["halt_reason"]
        .as_str()
        .unwrap()
        .contains("1 timed out"));
}

async fn legacy_clients_are_offered_the_rollout_under_its_caps_per_address(backend: Backend) {
    let (app, admin) = fleet(TestApp::spawn(backend).await).await;
    let id = start_id(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":1,"hold_minutes":600},{"percent":100}],"max_grants_per_hour":1}),
    )
    .await;
    let legacy = || async {
        crate::harness::get(app.at("/legacy/recalbox/stable/rpi3/recalbox.version"))
            .await
            .unwrap()
    };
    // No uuid, no cohort: this address takes the one offer of the hour, and keeps it.
    for _ in 0..2 {
        let answer = legacy().await;
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.text().await.unwrap(), format!("{NEW}\n"));
    }
    // The hour's cap is used: devices with a uuid in the 1% cohort are held back.
    let salt = id.to_string();
    let in_cohort_now: Vec<String> = uuids(2000)
        .into_iter()
        .filter(|u| in_cohort(bucket(&salt, u), 1.0))
        .collect();
    assert!(!in_cohort_now.is_empty());
    for uuid in &in_cohort_now {
        let held = check(&app, &on(OLD, uuid)).await;
        assert_eq!(held.status(), StatusCode::NO_CONTENT);
        assert!(held.headers().contains_key("retry-after"));
    }
}

/// A device check from `address` (the server trusts this machine as a proxy).
async fn check_from(app: &TestApp, address: &str, uuid: &str) -> reqwest::Response {
    crate::harness::client()
        .get(app.at(&format!("/v1/upgrade?{}", on(OLD, uuid))))
        .header("x-forwarded-for", address)
        .send()
        .await
        .unwrap()
}

async fn one_address_making_up_device_ids_cannot_use_up_a_cap(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |config| {
        config.offers_per_address = 10;
        config.trusted_proxies =
            app::backend::edge::client_address::TrustedProxies::parse("127.0.0.1").unwrap();
    })
    .await;
    let (app, admin) = fleet(app).await;
    start(
        &app,
        &admin,
        // The hold keeps the background job from completing the rollout (it would, once its
        // only step is healthy) while the test runs: a completed rollout is a publish, uncapped.
        json!({"dist":"recalbox","channel":"stable","version":NEW,"cohort_salt":"forged",
               "steps":[{"percent":100,"hold_minutes":60}],"max_in_flight":50}),
    )
    .await;
    let mut offered = 0;
    for i in 0..200 {
        let answer = check_from(&app, "198.51.100.66", &format!("fake-{i}")).await;
        match answer.status() {
            StatusCode::OK => offered += 1,
            StatusCode::NO_CONTENT => assert!(answer.headers().contains_key("retry-after")),
            other => panic!("{other}"),
        }
    }
    assert_eq!(offered, 10, "one address gets its limit, not the cap");
    // Real devices elsewhere are still offered the build.
    for i in 0..5 {
        let answer = check_from(&app, &format!("203.0.113.{i}"), &format!("real-{i}")).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
}

async fn reports_for_a_device_never_offered_do_not_count_toward_health(backend: Backend) {
    let (app, admin) = fleet(TestApp::spawn(backend).await).await;
    let id = start_id(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,"cohort_salt":"forged",
               "steps":[{"percent":50,"hold_minutes":600},{"percent":100}],
               "health":{"min_reports":5,"max_failure_ratio":0.2}}),
    )
    .await;
    // Forged reports: failures for 25 device ids that were never offered the build.
    for i in 0..25 {
        let uuid = format!("never-offered-{i}");
        report(&app, &uuid, OLD, "STARTED").await;
        report(&app, &uuid, OLD, "FAILED").await;
    }
    // The rollout job acts on what counts: these do not.
    app.tick().await;
    let view = state_of(&app, &admin, id).await;
    assert_eq!(view["state"], "running", "{view}");
    assert_eq!(view["counts"]["failed"], 0, "{view}");
}

async fn report_with_key(app: &TestApp, uuid: &str, status: &str, key: Option<&str>) -> StatusCode {
    let body = format!(
        r#"{{"board":"rpi3","uuid":"{uuid}","user":"t","boardversion":"{OLD}","branch":"stable","status":"{status}"}}"#
    );
    let mut request = crate::harness::client().post(app.at("/v1/log")).body(body);
    if let Some(key) = key {
        request = request.header("x-sluice-report-key", key);
    }
    request.send().await.unwrap().status()
}

async fn a_dist_that_requires_a_report_key_counts_only_reports_carrying_it(backend: Backend) {
    let (app, admin) = fleet(TestApp::spawn(backend).await).await;
    let set_key = |client: &Client, key: Value| {
        client
            .put(app.at("/api/v1/dists/recalbox/report-key"))
            .json(&json!({ "key": key }))
            .send()
    };
    let viewer = app.api(&app.token(Role::Viewer).await);
    let key = "fleet-key-2f7c9a41e0";
    assert_eq!(
        set_key(&viewer, json!(key)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let short = set_key(&admin, json!("short")).await.unwrap();
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    let body: Value = short.json().await.unwrap();
    assert_eq!(body["error"]["field"], "key");
    assert_eq!(
        set_key(&admin, json!(key)).await.unwrap().status(),
        StatusCode::OK
    );

    let id = start_id(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,"cohort_salt":"keyed",
               "steps":[{"percent":100}],"health":{"min_reports":1,"max_failure_ratio":0.0}}),
    )
    .await;
    let (offered, _) = checks(&app, &uuids(3), OLD).await;
    let device = offered.iter().next().expect("an offered device").clone();
    assert_eq!(
        report_with_key(&app, &device, "FAILED", None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        report_with_key(&app, &device, "FAILED", Some("fleet-key-guess")).await,
        StatusCode::UNAUTHORIZED
    );
    app.tick().await;
    let view = state_of(&app, &admin, id).await;
    assert_eq!(view["state"], "running", "{view}");
    assert_eq!(view["counts"]["failed"], 0);
    assert_eq!(
        report_with_key(&app, &device, "STARTED", Some(key)).await,
        StatusCode::OK
    );
    let view = state_of(&app, &admin, id).await;
    assert_eq!(view["counts"]["downloading"], 1, "{view}");

    // Without the requirement, reports count as before.
    assert_eq!(
        set_key(&admin, Value::Null).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        report_with_key(&app, &device, "REBOOTING", None).await,
        StatusCode::OK
    );
    let audit = app
        .get_json(&admin, "/api/v1/audit?action=dist.report_key")
        .await;
    assert!(!audit.to_string().contains(key), "the key is never logged");
}

crate::on_both_backends!(
    a_dist_that_requires_a_report_key_counts_only_reports_carrying_it,
    one_address_making_up_device_ids_cannot_use_up_a_cap,
    reports_for_a_device_never_offered_do_not_count_toward_health,
    a_ten_percent_rollout_offers_exactly_the_predicted_devices_and_fifty_keeps_them,
    a_burst_of_failed_reports_halts_the_rollout_and_new_devices_get_204,
    caps_hold_under_concurrent_checks,
    rollback_points_the_channel_back_at_the_previous_build,
    a_newer_rollout_supersedes_the_older_and_its_devices_move_on,
    a_healthy_step_advances_by_itself_after_its_hold,
    only_release_managers_steer_and_bad_policies_name_their_field,
    the_simulator_takes_a_healthy_fleet_to_100_percent_on_its_own,
    the_simulator_shows_a_fleet_with_30_percent_failures_halting_in_the_first_step,
    a_device_that_never_reports_times_out_and_counts_as_a_failure,
    legacy_clients_are_offered_the_rollout_under_its_caps_per_address,
    a_completed_rollouts_counts_settle,
    legacy_clients_behind_a_proxy_are_counted_one_by_one,
);

/// A rollout that completes with devices still updating: their reports still count and the
/// silent ones time out, so its counts settle instead of showing them in flight forever; the
/// page says what is going on meanwhile.
async fn a_completed_rollouts_counts_settle(backend: Backend) {
    // A policy minute of 100 ms; the update timeout (600 minutes) is a minute of real time.
    let app = TestApp::spawn_configured(backend, |config| {
        config.decisions = server::jobs::Decisions::WhenCalled;
        config.minute_ms = 100;
    })
    .await;
    let (app, admin) = fleet(app).await;
    let id = start_id(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":100,"hold_minutes":1}],"update_timeout_minutes":600,
               "health":{"min_reports":1,"max_failure_ratio":0.5}}),
    )
    .await;
    for uuid in ["done", "late", "silent"] {
        assert_eq!(check(&app, &on(OLD, uuid)).await.status(), StatusCode::OK);
    }
    app.tick().await;
    report(&app, "done", NEW, "OK").await;
    report(&app, "late", OLD, "STARTED").await;
    let start = app::backend::infra::clock::now_millis();
    assert!(
        app.tick_at(start + 200).await,
        "healthy after its hold: completed"
    );
    let view = state_of(&app, &admin, id).await;
    assert_eq!(view["state"], "completed", "{view}");
    assert_eq!(view["counts"]["succeeded"], 1, "{view}");
    assert_eq!(view["in_flight"], 2, "{view}");
    let page = app
        .signed_in("watcher", Role::Viewer)
        .await
        .get(app.at(&format!("/rollouts/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("2 devices were still updating when this rollout ended"),
        "{page}"
    );

    report(&app, "late", NEW, "OK").await;
    app.tick_at(start + 601 * 100).await;
    let view = state_of(&app, &admin, id).await;
    assert_eq!(
        view["counts"]["succeeded"], 2,
        "the late report counts: {view}"
    );
    assert_eq!(
        view["counts"]["timed_out"], 1,
        "the silent one timed out: {view}"
    );
    assert_eq!(view["in_flight"], 0, "{view}");
}

/// Behind a reverse proxy every legacy client (no uuid) arrives from the proxy's address: the
/// proxy's `X-Forwarded-For` (trusted from the proxy only) tells them apart, so the legacy
/// canary counts each client, not the proxy once.
async fn legacy_clients_behind_a_proxy_are_counted_one_by_one(backend: Backend) {
    let (app, admin) = fleet(TestApp::spawn_behind_proxy(backend).await).await;
    start(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":100,"hold_minutes":600}],"max_grants_per_hour":3}),
    )
    .await;
    let legacy_from = |address: String| {
        let url = app.at("/legacy/recalbox/stable/rpi3/recalbox.version");
        async move {
            crate::harness::client()
                .get(url)
                .header("x-forwarded-for", address)
                .send()
                .await
                .unwrap()
        }
    };
    let mut got_new = Vec::new();
    for i in 1..=5 {
        let answer = legacy_from(format!("198.51.100.{i}")).await;
        if answer.status() == StatusCode::OK && answer.text().await.unwrap() == format!("{NEW}\n") {
            got_new.push(i);
        }
    }
    assert_eq!(
        got_new,
        [1, 2, 3],
        "three clients, one offer each, then the hourly cap"
    );
    let again = legacy_from("198.51.100.2".into()).await;
    assert_eq!(
        again.text().await.unwrap(),
        format!("{NEW}\n"),
        "a client keeps its offer"
    );
}
