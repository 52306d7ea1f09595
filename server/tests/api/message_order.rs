//! Messages are never skipped: 32 writers record release events at once while the live stream
//! and the AMQP publisher read the outbox, and every event reaches both.

use crate::harness::{Backend, TestApp};
use crate::release_amqp::listen;
use amqprs::channel::BasicGetArguments;
use app::model::Role;
use reqwest::StatusCode;
use std::collections::HashSet;
use std::time::Duration;

const WRITERS: usize = 32;
const EVENTS_EACH: usize = 20;

/// The releases named in the events of `text` that start with `tag`.
fn releases_in(text: &str, tag: &str, into: &mut HashSet<String>) {
    let needle = format!("\"release\":\"{tag}");
    for (at, _) in text.match_indices(&needle) {
        let rest = &text[at + "\"release\":\"".len()..];
        if let Some(end) = rest.find('"') {
            into.insert(rest[..end].to_string());
        }
    }
}

async fn concurrent_writers_lose_no_message_in_the_stream_or_on_amqp(backend: Backend) {
    let (_connection, channel, queue) = listen().await;
    let app = TestApp::spawn_publishing(backend).await;
    let rm = app.api(&app.token(Role::ReleaseManager).await);
    // The publisher's first round takes its place at the end of the (empty) outbox.
    app.publish_amqp().await;
    let mut stream = rm
        .get(app.at("/api/v1/events/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);

    let tag = format!("order-{backend:?}-{}-", std::process::id());
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (app_url, rm, tag) = (app.at(""), rm.clone(), tag.clone());
            tokio::spawn(async move {
                for i in 0..EVENTS_EACH {
                    let query = format!(
                        "dist=order{}&release={tag}{w}-{i}&state=branched&reached=1",
                        w % 8
                    );
                    let response = rm
                        .post(format!("{app_url}/event?{query}"))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), StatusCode::CREATED, "{query}");
                }
            })
        })
        .collect();
    // The publisher reads while the writers write: that is when a reader could pass a row
    // that commits later.
    let publishing = async {
        while !writers.iter().all(|w| w.is_finished()) {
            app.publish_amqp().await;
        }
    };
    publishing.await;
    for writer in writers {
        writer.await.unwrap();
    }
    app.publish_amqp().await;
    let expected = WRITERS * EVENTS_EACH;

    let mut streamed = HashSet::new();
    let mut text = String::new();
    while streamed.len() < expected {
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("only {} of {expected} events streamed", streamed.len()))
            .unwrap()
            .expect("the stream stays open");
        text.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(end) = text.rfind("\n\n") {
            releases_in(&text[..end], &tag, &mut streamed);
            text.drain(..end);
        }
    }

    let mut published = HashSet::new();
    while let Some((_, _, body)) = channel
        .basic_get(BasicGetArguments::new(&queue).no_ack(true).finish())
        .await
        .unwrap()
    {
        releases_in(&String::from_utf8_lossy(&body), &tag, &mut published);
    }
    assert_eq!(published.len(), expected, "published on AMQP");
    assert_eq!(streamed.len(), expected, "streamed");
}

crate::on_both_backends!(concurrent_writers_lose_no_message_in_the_stream_or_on_amqp);
