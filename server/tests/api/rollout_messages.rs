//! Builds and rollouts tell what happens to them through the outbox: an automatic halt
//! reaches a webhook receiver and a RabbitMQ consumer, with the figures that triggered it.

use crate::devices::{build, check, register};
use crate::harness::{Backend, TestApp};
use crate::release_amqp::listen_to;
use crate::release_messages::{add_webhook, Receiver};
use crate::rollouts::{fleet, on, report, start_id, OLD};
use amqprs::channel::BasicGetArguments;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn an_automatic_halt_reaches_webhooks_and_amqp(backend: Backend) {
    let (_connection, channel, queue) = listen_to("sluice.rollout.#").await;
    let app = TestApp::spawn_publishing(backend).await;
    // The publisher's first round takes its place at the end of the (empty) outbox.
    app.publish_amqp().await;
    let (app, admin) = fleet(app).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (_, secret) = add_webhook(&app, &url).await;
    let receiver = Receiver::start_on(listener, secret).await;
    // A version of its own: the other backend's test publishes to the same broker meanwhile.
    let version = format!("master-2017-09-01-{}{}", std::process::id(), backend as u8);
    let registered = register(&app, &admin, &build("master", &version, &["rpi3"])).await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let id = start_id(
        &app,
        &admin,
        json!({"dist":"recalbox","channel":"stable","version":version,
               "steps":[{"percent":100,"hold_minutes":600}],
               "health":{"min_reports":2,"max_failure_ratio":0.0}}),
    )
    .await;
    for uuid in ["a", "b"] {
        assert_eq!(check(&app, &on(OLD, uuid)).await.status(), StatusCode::OK);
    }
    app.tick().await;
    report(&app, "a", OLD, "FAILED").await;
    report(&app, "b", &version, "OK").await;
    assert!(app.tick().await, "the rollout job halts it");

    app.deliver().await;
    let halts: Vec<Value> = receiver
        .messages()
        .into_iter()
        .filter(|(signed, _, topic)| *signed && topic == "sluice.rollout.halt")
        .map(|(_, body, _)| body)
        .collect();
    assert_eq!(halts.len(), 1, "{:?}", receiver.messages());
    let halt = &halts[0];
    assert_eq!(halt["rollout"], id);
    assert_eq!(
        (&halt["dist"], &halt["version"]),
        (&json!("recalbox"), &json!(version))
    );
    assert_eq!(halt["state"], "halted");
    let reason = halt["reason"].as_str().unwrap();
    assert!(reason.contains("1 of 2 outcomes failed"), "{reason}");
    let topics: Vec<String> = receiver.messages().into_iter().map(|m| m.2).collect();
    for expected in [
        "sluice.build.registered",
        "sluice.build.published",
        "sluice.rollout.create",
    ] {
        assert!(
            topics.iter().any(|t| t == expected),
            "{expected} in {topics:?}"
        );
    }

    app.publish_amqp().await;
    let mut on_amqp = Vec::new();
    while let Some((get_ok, _, body)) = channel
        .basic_get(BasicGetArguments::new(&queue).no_ack(true).finish())
        .await
        .unwrap()
    {
        let body: Value = serde_json::from_slice(&body).unwrap();
        if body["version"] == version.as_str() {
            on_amqp.push((get_ok.routing_key().to_string(), body));
        }
    }
    let actions: Vec<&str> = on_amqp.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!(actions, ["sluice.rollout.create", "sluice.rollout.halt"]);
    assert_eq!(on_amqp[1].1["reason"], halt["reason"]);
}

crate::on_both_backends!(an_automatic_halt_reaches_webhooks_and_amqp);
