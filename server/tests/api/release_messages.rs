//! Nothing is missed: every release event goes through the outbox to the live stream and to
//! signed webhooks, and a delivery survives a restart.

use crate::harness::{Backend, TestApp};
use crate::release_stream::{post_form, release_manager_of, with_release_manager};
use app::model::Role;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use hmac::{Hmac, Mac};
use http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A webhook receiver that checks every signature itself, as a consumer would.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    received: Arc<Mutex<Vec<(bool, Value, String)>>>,
}

impl Receiver {
    pub(crate) async fn start_on(listener: tokio::net::TcpListener, secret: String) -> Receiver {
        let receiver = Receiver::default();
        let router = axum::Router::new()
            .route("/hook", post(receive))
            .with_state((receiver.clone(), secret));
        tokio::spawn(async move { axum::serve(listener, router).await });
        receiver
    }

    pub(crate) fn messages(&self) -> Vec<(bool, Value, String)> {
        self.received.lock().unwrap().clone()
    }

    /// What it has received once `app` has run a round of deliveries: exactly `count`.
    async fn after_delivery(&self, app: &TestApp, count: usize) -> Vec<(bool, Value, String)> {
        app.deliver().await;
        let messages = self.messages();
        assert_eq!(messages.len(), count, "{messages:?}");
        messages
    }
}

async fn receive(
    State((receiver, secret)): State<(Receiver, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let signed = headers
        .get("x-sluice-signature-256")
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str());
    let topic = headers
        .get("x-sluice-topic")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    receiver
        .received
        .lock()
        .unwrap()
        .push((signed, body, topic));
    StatusCode::NO_CONTENT
}

pub async fn add_webhook(app: &TestApp, url: &str) -> (i64, String) {
    let admin = app.api(&app.token(Role::Admin).await);
    let response = admin
        .post(app.at("/api/v1/webhooks"))
        .json(&json!({ "url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    (
        body["webhook"]["id"].as_i64().unwrap(),
        body["secret"].as_str().unwrap().to_string(),
    )
}

async fn page_text(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// A webhook's delivery log, newest first.
pub(crate) async fn deliveries(app: &TestApp, webhook: i64) -> Value {
    let admin = app.api(&app.token(Role::Admin).await);
    admin
        .get(app.at(&format!("/api/v1/webhooks/{webhook}/deliveries")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn webhooks_receive_every_event_signed_with_their_secret(backend: Backend) {
    let (app, rm) = release_manager_of(TestApp::spawn_driven(backend).await).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (webhook, secret) = add_webhook(&app, &url).await;
    let receiver = Receiver::start_on(listener, secret).await;

    post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1").await;
    post_form(&app, &rm, "dist=fedora&release=33&state=active&reached=0").await;
    let mut messages = receiver.after_delivery(&app, 2).await;
    assert!(
        messages.iter().all(|(signed, _, _)| *signed),
        "signatures verify"
    );
    // Each delivery is sent on its own: they may arrive in either order.
    messages.sort_by_key(|(_, body, _)| body["release"].as_str().map(String::from));
    let (entered, left) = (&messages[1], &messages[0]);
    assert_eq!(entered.1["release"], "34");
    assert_eq!(entered.1["was_in_state"], false);
    assert_eq!(entered.2, "sluice.release.state.entered");
    assert_eq!(left.1["release"], "33");
    assert_eq!(left.2, "sluice.release.state.left");
    let entered = entered.1.clone();

    // The delivery log shows both delivered; a redelivery sends the same message again.
    let log = deliveries(&app, webhook).await;
    assert_eq!(log.as_array().unwrap().len(), 2);
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .all(|d| !d["delivered_at"].is_null()));
    assert_eq!(log[0]["last_status"], 204);
    let admin = app.api(&app.token(Role::Admin).await);
    // The log is newest first: the older delivery is the "entered" message's.
    let first = log[1]["id"].as_i64().unwrap();
    let again = admin
        .post(app.at(&format!("/api/v1/webhooks/deliveries/{first}/redeliver")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let messages = receiver.after_delivery(&app, 3).await;
    assert_eq!(messages[2].1, entered);
    assert!(messages[2].0);

    // Only admins manage webhooks.
    let refused = rm.get(app.at("/api/v1/webhooks")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

async fn an_outbox_entry_is_delivered_after_a_restart(backend: Backend) {
    let (app, rm) = release_manager_of(TestApp::spawn_driven(backend).await).await;
    // The receiver is down while the event is written.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let (webhook, secret) = add_webhook(&app, &format!("http://{address}/hook")).await;
    let response = post_form(&app, &rm, "dist=fedora&release=35&state=branched&reached=1").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(app.deliver().await, 1);
    let log = deliveries(&app, webhook).await;
    assert_eq!(
        log[0]["attempts"], 1,
        "the first attempt failed and was logged"
    );
    assert!(log[0]["delivered_at"].is_null());

    let app = app.restart().await;
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let receiver = Receiver::start_on(listener, secret).await;
    // The retry is due a second after the failure.
    let later = app::backend::infra::clock::now_millis() + 2_000;
    assert_eq!(app.deliver_at(later).await, 1);
    let messages = receiver.messages();
    assert!(messages[0].0);
    assert_eq!(messages[0].1["release"], "35");
    drop(app);
}

async fn the_live_stream_sends_each_event_as_it_is_recorded(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    post_form(&app, &rm, "dist=fedora&release=33&state=active&reached=1").await;
    let admin = app.api(&app.token(Role::Admin).await);
    admin
        .put(app.at("/api/v1/dists/fedora/release-settings"))
        .json(&json!({"public": true}))
        .send()
        .await
        .unwrap();
    // Anyone may follow a public dist.
    let mut stream = crate::harness::client()
        .get(app.at("/api/v1/events/stream?dist=fedora"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1").await;
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .expect("an event arrives")
            .unwrap()
            .expect("the stream stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        text.contains("event: sluice.release.state.entered"),
        "{text}"
    );
    assert!(text.contains("\"release\":\"34\""), "{text}");
    assert!(
        !text.contains("\"release\":\"33\""),
        "only what happened after connecting"
    );

    // Reconnecting with Last-Event-ID replays what was missed.
    let mut replay = crate::harness::client()
        .get(app.at("/api/v1/events/stream?dist=fedora"))
        .header("last-event-id", "0")
        .send()
        .await
        .unwrap();
    let chunk = tokio::time::timeout(Duration::from_secs(10), replay.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("\"release\":\"33\""));

    // A private dist, or all dists, needs signing in.
    let refused = crate::harness::client()
        .get(app.at("/api/v1/events/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

async fn a_rule_sends_its_webhook_the_event_when_a_release_enters_the_state(backend: Backend) {
    let (app, rm) = release_manager_of(TestApp::spawn_driven(backend).await).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (webhook, secret) = add_webhook(&app, &url).await;
    let receiver = Receiver::start_on(listener, secret).await;
    let admin = app.api(&app.token(Role::Admin).await);
    // The hook is for the rule only: off for the general fan-out of every event.
    admin
        .put(app.at(&format!("/api/v1/webhooks/{webhook}/active")))
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    post_form(&app, &rm, "dist=fedora&release=33&state=active&reached=1").await;
    let refused = rm
        .post(app.at("/api/v1/rules"))
        .json(&json!({"dist":"fedora","state":"stable","action":{"kind":"webhook","webhook_id":webhook}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let bad = admin
        .post(app.at("/api/v1/rules"))
        .json(
            &json!({"dist":"fedora","state":"stable","action":{"kind":"webhook","webhook_id":999}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let created = admin
        .post(app.at("/api/v1/rules"))
        .json(&json!({"dist":"fedora","state":"stable","action":{"kind":"webhook","webhook_id":webhook}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let rule: Value = created.json().await.unwrap();
    assert_eq!(rule["on"], "entered");

    // Other states, and entering "stable" a second time (1-1), do not fire it.
    post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1").await;
    post_form(&app, &rm, "dist=fedora&release=33&state=stable&reached=1").await;
    post_form(&app, &rm, "dist=fedora&release=33&state=stable&reached=1").await;
    let messages = receiver.after_delivery(&app, 1).await;
    app.deliver().await;
    let messages_after = receiver.messages();
    assert_eq!(
        messages_after.len(),
        1,
        "only the rule's message: {messages:?}"
    );
    let (signed, body, topic) = &messages_after[0];
    assert!(signed);
    assert_eq!(topic, "sluice.rule.fired");
    assert_eq!(body["event"]["release"], "33");
    assert_eq!(body["event"]["state"], "stable");
    assert_eq!(body["rule"], rule["id"]);
}

async fn an_admin_manages_webhooks_and_sends_a_delivery_again_from_the_console(backend: Backend) {
    let (app, rm) = release_manager_of(TestApp::spawn_driven(backend).await).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bad = app
        .rpc(&admin, "webhooks/create", &[("url", "ftp://nowhere")])
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let created = app.rpc(&admin, "webhooks/create", &[("url", &url)]).await;
    assert_eq!(created.status(), StatusCode::OK);
    let created: Value = created.json().await.unwrap();
    let id = created["webhook"]["id"].as_i64().unwrap();
    let receiver =
        Receiver::start_on(listener, created["secret"].as_str().unwrap().to_string()).await;
    let list = admin.get(app.at("/admin/webhooks")).send().await.unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let html = list.text().await.unwrap();
    assert!(html.contains(&url), "{html}");
    assert!(html.contains("Switch off"), "{html}");

    post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1").await;
    receiver.after_delivery(&app, 1).await;
    let html = page_text(&admin, &app.at(&format!("/admin/webhooks/{id}"))).await;
    assert!(html.contains(">delivered<"), "{html}");
    assert!(html.contains("sluice.release.state.entered"), "{html}");
    assert!(html.contains("HTTP 204"), "{html}");
    let first = deliveries(&app, id).await[0]["id"].as_i64().unwrap();
    let again = app
        .rpc(
            &admin,
            "webhooks/redeliver",
            &[("delivery_id", &first.to_string())],
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let messages = receiver.after_delivery(&app, 2).await;
    assert_eq!(messages[1].1, messages[0].1);

    // Switched off, it gets no new messages.
    let off = app
        .rpc(
            &admin,
            "webhooks/set-active",
            &[("id", &id.to_string()), ("active", "false")],
        )
        .await;
    assert_eq!(off.status(), StatusCode::OK);
    post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=0").await;
    receiver.after_delivery(&app, 2).await;

    // Only admins see the pages or call the functions.
    let viewer = app.signed_in("vic", Role::Viewer).await;
    let page = viewer.get(app.at("/admin/webhooks")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let refused = app.rpc(&viewer, "webhooks/list", &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

crate::on_both_backends!(
    webhooks_receive_every_event_signed_with_their_secret,
    an_outbox_entry_is_delivered_after_a_restart,
    the_live_stream_sends_each_event_as_it_is_recorded,
    a_rule_sends_its_webhook_the_event_when_a_release_enters_the_state,
    an_admin_manages_webhooks_and_sends_a_delivery_again_from_the_console,
);
