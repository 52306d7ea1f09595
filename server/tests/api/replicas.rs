//! Two `sluice serve` replicas on one PostgreSQL database, with devices' requests spread over
//! both, as behind a load balancer: they agree on every rollout.

use crate::devices::check;
use crate::harness::{Backend, TestApp};
use crate::rollouts::{fleet, history_of, on, report, start_id, state_of, NEW, OLD};
use app::backend::infra::clock::now_millis;
use reqwest::StatusCode;
use serde_json::json;

/// A policy minute of 100 ms, so that the test's clock can pass an update timeout of
/// `TIMEOUT_MINUTES` (a minute of real time, longer than the test takes to get there).
const MINUTE_MS: i64 = 100;
const TIMEOUT_MINUTES: i64 = 600;

/// Two replicas whose rollout job runs when the test says, and the admin's client.
async fn two_replicas() -> (TestApp, TestApp, reqwest::Client) {
    let app = TestApp::spawn_configured(Backend::Postgres, |config| {
        config.decisions = server::jobs::Decisions::WhenCalled;
        config.minute_ms = MINUTE_MS;
    })
    .await;
    let (app, admin) = fleet(app).await;
    let other = app.replica().await;
    (app, other, admin)
}

/// Makes `replica` read the catalog now (it would on the other's notice, a moment later).
async fn catch_up(replica: &TestApp) {
    replica
        .state
        .catalog
        .reload(&replica.db)
        .await
        .expect("the catalog reloads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_counts_the_same_whichever_replica_receives_it() {
    let (one, two, admin) = two_replicas().await;
    let id = start_id(
        &one,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":100,"hold_minutes":100000}],"update_timeout_minutes":TIMEOUT_MINUTES,
               "health":{"min_reports":1,"max_failure_ratio":0.05}}),
    )
    .await;
    catch_up(&two).await;
    let replicas = [&one, &two];
    // Each device asks one replica and reports to the other, after its offer is written.
    let devices: Vec<String> = (0..40).map(|i| format!("spread-{i:02}")).collect();
    for (i, uuid) in devices.iter().enumerate() {
        let answer = check(replicas[i % 2], &on(OLD, uuid)).await;
        assert_eq!(answer.status(), StatusCode::OK, "{uuid}");
    }
    assert_eq!(
        check(&one, &on(OLD, "silent")).await.status(),
        StatusCode::OK
    );
    one.tick().await;
    two.tick().await;
    for (i, uuid) in devices.iter().enumerate() {
        report(replicas[(i + 1) % 2], uuid, OLD, "STARTED").await;
        report(replicas[(i + 1) % 2], uuid, NEW, "OK").await;
    }
    // Past the update timeout on both replicas' clocks: only the silent device times out.
    let later = now_millis() + (TIMEOUT_MINUTES + 1) * MINUTE_MS;
    for replica in replicas {
        replica.tick_at(later).await;
    }
    for replica in replicas {
        replica.tick_at(later + 1).await;
        let view = state_of(replica, &admin, id).await;
        let counts = &view["counts"];
        assert_eq!(counts["succeeded"], 40, "{view}");
        assert_eq!(counts["timed_out"], 1, "{view}");
        assert_eq!(counts["failed"], 0, "{view}");
        assert_eq!(
            view["state"], "running",
            "2.4% failed is under the 5% limit: {view}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_replicas_judge_a_failing_rollout_and_it_is_halted_once() {
    let (one, two, admin) = two_replicas().await;
    let id = start_id(
        &one,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":100,"hold_minutes":100000}],
               "health":{"min_reports":4,"max_failure_ratio":0.2}}),
    )
    .await;
    catch_up(&two).await;
    let replicas = [&one, &two];
    for i in 0..8 {
        let uuid = format!("failing-{i}");
        assert_eq!(
            check(replicas[i % 2], &on(OLD, &uuid)).await.status(),
            StatusCode::OK
        );
    }
    one.tick().await;
    two.tick().await;
    // Half fail, each replica hearing of two of them (not enough alone for the gate).
    for i in 0..4 {
        report(
            replicas[(i + 1) % 2],
            &format!("failing-{i}"),
            OLD,
            "FAILED",
        )
        .await;
    }
    let (a, b) = tokio::join!(one.tick(), two.tick());
    assert!(a || b, "one of them halts it");
    catch_up(&one).await;
    catch_up(&two).await;
    one.tick().await;
    two.tick().await;
    for replica in replicas {
        let view = state_of(replica, &admin, id).await;
        assert_eq!(view["state"], "halted", "{view}");
        assert_eq!(view["counts"]["failed"], 4, "{view}");
    }
    let halts = history_of(&one, &admin, id)
        .await
        .into_iter()
        .filter(|entry| entry["action"] == "halt")
        .count();
    assert_eq!(halts, 1, "halted once");
    let (messages,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE topic = 'sluice.rollout.halt'")
            .fetch_one(&one.db.pool)
            .await
            .unwrap();
    assert_eq!(messages, 1, "one message tells the halt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_hold_across_replicas() {
    let (one, two, admin) = two_replicas().await;
    let id = start_id(
        &one,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":100,"hold_minutes":100000}],"update_timeout_minutes":TIMEOUT_MINUTES,
               "max_in_flight":20,"max_grants_per_hour":30}),
    )
    .await;
    catch_up(&two).await;
    let replicas = [&one, &two];
    let mut offered: Vec<String> = Vec::new();
    let mut asked = 0;
    // Rounds of 60 devices spread over both replicas, each replica's rollout job passing in
    // between (it writes the offers and renews the replica's slice of the caps).
    for round in 0..3 {
        for i in 0..60 {
            let uuid = format!("capped-{round}-{i}");
            if check(replicas[i % 2], &on(OLD, &uuid)).await.status() == StatusCode::OK {
                offered.push(uuid);
            }
            asked += 1;
        }
        for replica in replicas {
            replica.tick().await;
        }
        assert!(offered.len() <= 20, "{} of {asked} offered", offered.len());
    }
    assert_eq!(
        offered.len(),
        20,
        "the slices come back: the whole cap is used"
    );
    // Ten finish: ten places are free, but the hourly cap leaves only ten more offers.
    for (i, uuid) in offered.iter().take(10).enumerate() {
        report(replicas[i % 2], uuid, NEW, "OK").await;
    }
    for round in 0..3 {
        for replica in replicas {
            replica.tick().await;
        }
        for i in 0..60 {
            let uuid = format!("later-{round}-{i}");
            if check(replicas[i % 2], &on(OLD, &uuid)).await.status() == StatusCode::OK {
                offered.push(uuid);
            }
        }
    }
    assert_eq!(offered.len(), 30, "the hourly cap, over both replicas");
    for replica in replicas {
        replica.tick().await;
        let view = state_of(replica, &admin, id).await;
        assert_eq!(view["counts"]["offered"], 20, "{view}");
        assert_eq!(view["counts"]["succeeded"], 10, "{view}");
    }
}
