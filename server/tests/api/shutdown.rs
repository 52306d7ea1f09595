//! A clean shutdown loses nothing: a real `sluice serve` answering update checks from many
//! devices at once is sent SIGTERM, and every offer and check-in it answered is in the database
//! once it has exited.

use crate::harness::{Backend, TestApp};
use crate::rollouts::{fleet, on, start, NEW, OLD};
use crate::serve_process::ServeProcess;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const DEVICES_AT_ONCE: usize = 16;

async fn uuids_in(app: &TestApp, sql: &str) -> BTreeSet<String> {
    sqlx::query_as::<_, (String,)>(sql)
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(uuid,)| uuid)
        .collect()
}

async fn sigterm_under_load_keeps_every_answered_offer_and_check_in(backend: Backend) {
    let (app, admin) = fleet(TestApp::spawn(backend).await).await;
    let id = start(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":NEW,
               "steps":[{"percent":100,"hold_minutes":600}]}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let mut server =
        ServeProcess::start(&app.database_url, &[("SLUICE_OFFERS_PER_ADDRESS", "0")]).await;

    // Devices check, each once, until the server stops answering.
    let answering = Arc::new(AtomicBool::new(true));
    let load: Vec<_> = (0..DEVICES_AT_ONCE)
        .map(|worker| {
            let (url, answering) = (server.url.clone(), answering.clone());
            tokio::spawn(async move {
                let client = crate::harness::client();
                let (mut offered, mut checked) = (Vec::new(), Vec::new());
                for n in 0.. {
                    let uuid = format!("load-{worker}-{n}");
                    let query = on(OLD, &uuid);
                    let Ok(answer) = client.get(format!("{url}/v1/upgrade?{query}")).send().await
                    else {
                        break;
                    };
                    match answer.status() {
                        StatusCode::OK => offered.push(uuid.clone()),
                        StatusCode::SERVICE_UNAVAILABLE => break,
                        other => assert_eq!(other, StatusCode::NO_CONTENT, "{uuid}"),
                    }
                    checked.push(uuid);
                    if !answering.load(Ordering::Relaxed) {
                        break;
                    }
                }
                (offered, checked)
            })
        })
        .collect();
    // Let the load run a while (this waits for nothing in the server): offers are buffered
    // for up to a second before they are written.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(server.terminate().await, "sluice serve exits with success");
    answering.store(false, Ordering::Relaxed);
    let (mut offered, mut checked) = (BTreeSet::new(), BTreeSet::new());
    for worker in load {
        let (o, c) = worker.await.unwrap();
        offered.extend(o);
        checked.extend(c);
    }
    assert!(
        offered.len() > 100,
        "the load made offers: {}",
        offered.len()
    );

    let stored = uuids_in(
        &app,
        &format!("SELECT uuid FROM rollout_devices WHERE rollout_id = {id}"),
    )
    .await;
    let lost: Vec<&String> = offered.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} of {} answered offers lost: {lost:?}",
        lost.len(),
        offered.len()
    );
    let seen = uuids_in(&app, "SELECT uuid FROM devices WHERE uuid LIKE 'load-%'").await;
    let unseen: Vec<&String> = checked.difference(&seen).collect();
    assert!(
        unseen.is_empty(),
        "{} of {} answered check-ins lost: {unseen:?}",
        unseen.len(),
        checked.len()
    );
}

crate::on_both_backends!(sigterm_under_load_keeps_every_answered_offer_and_check_in);
