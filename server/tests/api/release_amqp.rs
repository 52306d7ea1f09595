//! Release events published to RabbitMQ (127.0.0.1:5672, guest/guest) in the fedora-messaging
//! wire format, consumed here from a real queue.

use crate::harness::{Backend, TestApp};
use crate::release_stream::post_form;
use amqprs::channel::{BasicGetArguments, Channel, QueueBindArguments, QueueDeclareArguments};
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::FieldValue;
use app::model::Role;
use serde_json::Value;

pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// A fresh exclusive queue bound to every Sluice release topic.
pub async fn listen() -> (Connection, Channel, String) {
    listen_to("sluice.release.state.#").await
}

/// A fresh exclusive queue bound to the topics `binding` matches.
pub async fn listen_to(binding: &str) -> (Connection, Channel, String) {
    let connection = Connection::open(&OpenConnectionArguments::new(
        "127.0.0.1",
        5672,
        "guest",
        "guest",
    ))
    .await
    .expect("RabbitMQ must run for the tests at 127.0.0.1:5672");
    let channel = connection.open_channel(None).await.unwrap();
    let (queue, _, _) = channel
        .queue_declare(QueueDeclareArguments::exclusive_server_named())
        .await
        .unwrap()
        .unwrap();
    channel
        .queue_bind(QueueBindArguments::new(&queue, "amq.topic", binding))
        .await
        .unwrap();
    (connection, channel, queue)
}

/// The first message about `release` on the queue (tests running at the same time publish
/// too); the queue running empty first is a failure.
async fn message_about(
    channel: &Channel,
    queue: &str,
    release: &str,
) -> amqprs::channel::GetMessage {
    loop {
        let got = channel
            .basic_get(BasicGetArguments::new(queue).no_ack(true).finish())
            .await
            .unwrap();
        let Some(message) = got else {
            panic!("no message about {release} on the queue");
        };
        let body: Value = serde_json::from_slice(&message.2).unwrap_or(Value::Null);
        if body["release"] == release {
            return message;
        }
    }
}

fn header<'a>(properties: &'a amqprs::BasicProperties, name: &str) -> Option<&'a FieldValue> {
    let name: amqprs::FieldName = name.try_into().unwrap();
    properties.headers()?.as_ref().get(&name)
}

async fn a_release_event_is_consumed_from_rabbitmq_in_the_fedora_messaging_format(
    backend: Backend,
) {
    let (_connection, channel, queue) = listen().await;
    let app = TestApp::spawn_publishing(backend).await;
    let rm = app.api(&app.token(Role::ReleaseManager).await);
    // The publisher's first round takes its place at the end of the (empty) outbox.
    app.publish_amqp().await;
    let tag = format!("{:?}-{}", backend, std::process::id());
    let response = post_form(
        &app,
        &rm,
        &format!("dist=fedora&release={tag}&state=branched&reached=1"),
    )
    .await;
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    app.publish_amqp().await;

    let (get_ok, properties, body) = message_about(&channel, &queue, &tag).await;
    assert_eq!(get_ok.routing_key(), "sluice.release.state.entered");
    assert_eq!(
        properties.content_type().map(String::as_str),
        Some("application/json")
    );
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["release"], tag.as_str());
    assert_eq!(body["state"], "branched");
    assert_eq!(body["was_in_state"], false);
    assert!(matches!(
        header(&properties, "fedora_messaging_severity"),
        Some(FieldValue::I(20))
    ));
    assert!(header(&properties, "fedora_messaging_schema").is_some());
    assert!(header(&properties, "sent-at").is_some());
    // fedora-messaging's tools take only UUIDs as message ids.
    let id = properties.message_id().expect("a message id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    drop(app);
}

crate::on_both_backends!(a_release_event_is_consumed_from_rabbitmq_in_the_fedora_messaging_format);
