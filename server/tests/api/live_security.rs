//! Live streams and message delivery under attack: access re-checked per event, streams capped
//! per address, no one waiting on a webhook that never answers, webhooks kept out of the own
//! network.

use crate::harness::{Backend, TestApp};
use crate::release_messages::{add_webhook, deliveries};
use crate::release_pages::set_public;
use crate::release_stream::{post_form, release_manager_of, with_release_manager};
use app::backend::infra::audit::Actor;
use app::backend::messaging::stream_slots::MAX_STREAMS_PER_ADDRESS;
use app::model::Role;
use reqwest::{Client, Response, StatusCode};
use serde_json::json;
use std::time::Duration;

/// The error of a webhook's first delivery, after a round of deliveries.
async fn first_delivery_error(app: &TestApp, webhook: i64) -> serde_json::Value {
    app.deliver().await;
    let list = deliveries(app, webhook).await;
    assert!(
        !list[0]["last_error"].is_null(),
        "webhook {webhook}: {list}"
    );
    list[0]["last_error"].clone()
}

/// The next event of a stream, or `None` once the server has ended it.
async fn next_event(stream: &mut Response) -> Option<String> {
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .expect("the stream answers within 10 s")
            .expect("the stream reads");
        match chunk {
            Some(chunk) => text.push_str(&String::from_utf8_lossy(&chunk)),
            None => return None,
        }
        // Keep-alive comments are not events.
        if text.starts_with(':') && text.contains("\n\n") {
            text.clear();
        }
    }
    Some(text)
}

async fn open_stream(client: &Client, url: String) -> Response {
    let stream = client.get(url).send().await.unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    stream
}

async fn a_revoked_token_stops_receiving_events(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    let viewer =
        app::backend::accounts::tokens::create(&app.db, &Actor::cli(), "watcher", Role::Viewer)
            .await
            .unwrap();
    let mut stream = open_stream(&app.api(&viewer.secret), app.at("/api/v1/events/stream")).await;
    post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1").await;
    let event = next_event(&mut stream)
        .await
        .expect("an event while allowed");
    assert!(
        event.contains("\"actor\""),
        "signed-in readers see who: {event}"
    );

    app::backend::accounts::tokens::revoke(&app.db, &Actor::cli(), "watcher")
        .await
        .unwrap();
    post_form(&app, &rm, "dist=fedora&release=35&state=branched&reached=1").await;
    assert_eq!(next_event(&mut stream).await, None, "the stream ends");
}

async fn an_anonymous_stream_ends_when_its_dist_is_made_private_and_never_names_the_actor(
    backend: Backend,
) {
    let (app, rm) = with_release_manager(backend).await;
    post_form(&app, &rm, "dist=fedora&release=33&state=active&reached=1").await;
    set_public(&app, true).await;
    let anonymous = crate::harness::client();
    let mut stream = open_stream(&anonymous, app.at("/api/v1/events/stream?dist=fedora")).await;
    post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1").await;
    let event = next_event(&mut stream)
        .await
        .expect("an event while public");
    assert!(event.contains("\"release\":\"34\""), "{event}");
    assert!(
        !event.contains("actor") && !event.contains("token:"),
        "{event}"
    );

    set_public(&app, false).await;
    post_form(&app, &rm, "dist=fedora&release=35&state=branched&reached=1").await;
    assert_eq!(next_event(&mut stream).await, None, "the stream ends");
}

async fn a_webhook_that_never_answers_does_not_hold_up_the_live_stream(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    // Accepts connections and never answers.
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", hung.local_addr().unwrap());
    let _held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = hung.accept().await {
            open.push(socket);
        }
    });
    let mut hooks = Vec::new();
    for _ in 0..3 {
        hooks.push(add_webhook(&app, &url).await.0);
    }
    let reader = app.api(&app.token(Role::Viewer).await);
    let mut stream = open_stream(&reader, app.at("/api/v1/events/stream")).await;
    // Deliveries to the hung webhooks are in flight from the first event on.
    for release in 30..36 {
        post_form(
            &app,
            &rm,
            &format!("dist=fedora&release={release}&state=active&reached=1"),
        )
        .await;
        let event = next_event(&mut stream).await.expect("an event");
        assert!(
            event.contains(&format!("\"release\":\"{release}\"")),
            "{event}"
        );
    }
    // Every event came while the sends to the hung webhooks were still waiting for an answer
    // (they give up after 10 s): not one attempt is recorded yet.
    for hook in hooks {
        let log = deliveries(&app, hook).await;
        let attempts: Vec<&serde_json::Value> = log
            .as_array()
            .unwrap()
            .iter()
            .map(|d| &d["attempts"])
            .collect();
        assert!(attempts.iter().all(|a| **a == 0), "{log}");
    }
}

async fn one_address_cannot_hold_every_stream(backend: Backend) {
    let app = TestApp::spawn_behind_proxy(backend).await;
    let reader = app.api(&app.token(Role::Viewer).await);
    let open = |address: &'static str| {
        reader
            .get(app.at("/api/v1/events/stream"))
            .header("x-forwarded-for", address)
            .send()
    };
    let mut held = Vec::new();
    for _ in 0..MAX_STREAMS_PER_ADDRESS {
        let stream = open("198.51.100.30").await.unwrap();
        assert_eq!(stream.status(), StatusCode::OK);
        held.push(stream);
    }
    let refused = open("198.51.100.30").await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "busy");
    // Another address is served, and a closed stream gives its place back.
    assert_eq!(
        open("198.51.100.31").await.unwrap().status(),
        StatusCode::OK
    );
    drop(held.pop());
    let address = "198.51.100.30".parse().unwrap();
    let freed = app
        .state
        .streams
        .until_fewer_than(address, MAX_STREAMS_PER_ADDRESS);
    tokio::time::timeout(Duration::from_secs(30), freed)
        .await
        .expect("the server noticed the closed stream");
    assert_eq!(
        open("198.51.100.30").await.unwrap().status(),
        StatusCode::OK
    );
}

async fn webhooks_cannot_point_into_the_own_network(backend: Backend) {
    // Not the test configuration, which lets webhooks reach this machine.
    let app = TestApp::spawn_configured(backend, |config| {
        config.webhook_allow = Default::default();
    })
    .await;
    let admin = app.api(&app.token(Role::Admin).await);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://0x7f000001/hook",
        "http://2130706433/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.1.1/",
        "http://localhost:3000/",
    ] {
        let response = admin
            .post(app.at("/api/v1/webhooks"))
            .json(&json!({ "url": url }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["field"], "url", "{url}");
    }
}

async fn a_delivery_is_checked_against_the_policy_again_when_it_is_sent(backend: Backend) {
    let app = TestApp::spawn_driven(backend).await;
    // Something listens on this machine, which the test configuration lets webhooks reach...
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let reached = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = reached.clone();
    tokio::spawn(async move {
        if listener.accept().await.is_ok() {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let (webhook, _) = add_webhook(&app, &url).await;
    // ...until the operator takes that permission away.
    let app = app
        .restart_with(|config| config.webhook_allow = Default::default())
        .await;
    let rm = app.api(&app.token(Role::ReleaseManager).await);
    post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1").await;
    let error = first_delivery_error(&app, webhook).await;
    assert_eq!(error, "refused: not a public address");
    assert!(!reached.load(std::sync::atomic::Ordering::SeqCst));
}

async fn a_failed_delivery_says_the_same_whatever_the_cause(backend: Backend) {
    let (app, rm) = release_manager_of(TestApp::spawn_driven(backend).await).await;
    // Nothing listens on a port bound and dropped; the hung receiver accepts and never answers.
    let closed = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let (refused, _) = add_webhook(&app, &format!("http://{closed}/hook")).await;
    let (unknown, _) = add_webhook(&app, "http://no-such-host.invalid/hook").await;
    post_form(&app, &rm, "dist=fedora&release=34&state=branched&reached=1").await;
    for webhook in [refused, unknown] {
        let error = first_delivery_error(&app, webhook).await;
        assert_eq!(error, "no answer", "webhook {webhook}");
    }
}

/// Two replicas on one PostgreSQL both run the webhook sender: each delivery is claimed by one
/// of them and sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_send_each_webhook_delivery_once() {
    use axum::routing::post;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    let (app, rm) = release_manager_of(TestApp::spawn_driven(Backend::Postgres).await).await;
    let other = app.replica().await;
    let received: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let counter = received.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        post(move |headers: http::HeaderMap| {
            let counter = counter.clone();
            async move {
                let delivery = headers["x-sluice-delivery"].to_str().unwrap().to_string();
                *counter.lock().unwrap().entry(delivery).or_default() += 1;
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    add_webhook(&app, &url).await;
    let rm_other = other.api(&other.token(Role::ReleaseManager).await);
    for release in 0..20 {
        let (server, client) = if release % 2 == 0 {
            (&app, &rm)
        } else {
            (&other, &rm_other)
        };
        let query = format!("dist=fedora&release={release}&state=active&reached=1");
        assert_eq!(
            post_form(server, client, &query).await.status(),
            StatusCode::CREATED
        );
    }
    // Both replicas send at once, round after round, until nothing is left to send: each
    // delivery is claimed by one of them.
    loop {
        let (one, two) = tokio::join!(app.deliver(), other.deliver());
        if one + two == 0 {
            break;
        }
    }
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 20, "{received:?}");
    assert!(received.values().all(|n| *n == 1), "{received:?}");
}

/// A clean shutdown does not wait on live streams, which never end on their own: they end,
/// and the server stops (the wait for open requests is bounded too, at 5 s).
async fn live_streams_end_at_shutdown(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    let mut stream = open_stream(&rm, app.at("/api/v1/events/stream")).await;
    app.stop().await;
    assert_eq!(next_event(&mut stream).await, None, "the stream ended");
}

crate::on_both_backends!(
    live_streams_end_at_shutdown,
    a_failed_delivery_says_the_same_whatever_the_cause,
    a_revoked_token_stops_receiving_events,
    an_anonymous_stream_ends_when_its_dist_is_made_private_and_never_names_the_actor,
    a_webhook_that_never_answers_does_not_hold_up_the_live_stream,
    one_address_cannot_hold_every_stream,
    webhooks_cannot_point_into_the_own_network,
    a_delivery_is_checked_against_the_policy_again_when_it_is_sent,
);
