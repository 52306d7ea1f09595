//! Publishes every outbox message to AMQP when `SLUICE_AMQP_URL` is set, in the
//! fedora-messaging wire format: the JSON body, `Content-Type: application/json`, persistent,
//! and the headers `fedora_messaging_schema`, `fedora_messaging_severity` and `sent-at`, on the
//! `amq.topic` exchange with the message's topic as routing key.
//!
//! Its place in the outbox is a row of `outbox_cursors`, moved once the broker has confirmed a
//! batch (publisher confirms), so a restart or a broker outage resumes where it stopped. Delivery
//! is at least once: a crash between the confirm and moving the cursor publishes those messages
//! again, with the same `message_id`.

use super::amqp_confirms::{Confirm, ConfirmForwarder, Unconfirmed};
use amqprs::channel::{BasicPublishArguments, Channel, ConfirmSelectArguments};
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::{BasicProperties, FieldTable, FieldValue};
use app::backend::messaging::outbox::{self, OutboxMessage};
use app::backend::AppState;
use std::time::Duration;
use tokio::sync::mpsc;

pub const EXCHANGE: &str = "amq.topic";
const CURSOR: &str = "amqp";
/// fedora-messaging's INFO.
const SEVERITY_INFO: i32 = 20;
const RETRY_EVERY: Duration = Duration::from_secs(2);
const CONFIRM_WAIT: Duration = Duration::from_secs(10);

/// The parts of `amqp://user:password@host:port/vhost`.
#[derive(Debug, PartialEq, Eq)]
pub struct AmqpTarget {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub vhost: String,
}

pub fn parse_url(url: &str) -> Result<AmqpTarget, String> {
    let rest = url
        .strip_prefix("amqp://")
        .ok_or("SLUICE_AMQP_URL must start with amqp://")?;
    let (authority, vhost) = rest.split_once('/').unwrap_or((rest, ""));
    let (credentials, host_port) = authority
        .rsplit_once('@')
        .unwrap_or(("guest:guest", authority));
    let (username, password) = credentials.split_once(':').unwrap_or((credentials, ""));
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| "bad port in SLUICE_AMQP_URL")?),
        None => (host_port, 5672),
    };
    if host.is_empty() {
        return Err("SLUICE_AMQP_URL names no host".into());
    }
    Ok(AmqpTarget {
        host: host.to_string(),
        port,
        username: percent_decode(username)?,
        password: percent_decode(password)?,
        vhost: if vhost.is_empty() {
            "/".into()
        } else {
            percent_decode(vhost)?
        },
    })
}

/// `%XX` escapes decoded; what they decode to must be UTF-8.
fn percent_decode(text: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| "SLUICE_AMQP_URL has an escape that is not UTF-8".to_string())
}

/// The fedora-messaging headers of one message.
pub fn headers(message: &OutboxMessage, sent_at: &str) -> FieldTable {
    let mut headers = FieldTable::new();
    let schema = format!("sluice:{}", message.topic);
    for (name, value) in [
        (
            "fedora_messaging_schema",
            FieldValue::S(schema.try_into().expect("short")),
        ),
        ("fedora_messaging_severity", FieldValue::I(SEVERITY_INFO)),
        (
            "sent-at",
            FieldValue::S(sent_at.to_string().try_into().expect("short")),
        ),
    ] {
        headers.insert(name.try_into().expect("a short header name"), value);
    }
    headers
}

/// An open channel in confirm mode, with the broker's confirms and the next delivery tag.
struct Publisher {
    connection: Connection,
    channel: Channel,
    confirms: mpsc::UnboundedReceiver<Confirm>,
    next_tag: u64,
}

/// Connects (again) when needed and publishes what is new, for as long as it runs
/// (`jobs::Jobs` runs it).
pub fn run(state: AppState, url: &str) -> Result<impl std::future::Future<Output = ()>, String> {
    let target = parse_url(url)?;
    Ok(async move {
        let mut live = state.outbox.subscribe();
        let mut publisher: Option<Publisher> = None;
        loop {
            if let Err(e) = publish_new(&state, &target, &mut publisher).await {
                tracing::warn!(error = %e, "AMQP publishing stopped; retrying");
                if let Some(p) = publisher.take() {
                    let _ = p.connection.close().await;
                }
                tokio::time::sleep(RETRY_EVERY).await;
                continue;
            }
            tokio::select! {
                _ = live.recv() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    })
}

/// One round by hand (tests with `Decisions::WhenCalled`): connects, publishes what is new
/// and confirmed, disconnects.
pub async fn publish_pending(state: &AppState, url: &str) -> Result<(), String> {
    let target = parse_url(url)?;
    let mut publisher = None;
    let result = publish_new(state, &target, &mut publisher).await;
    if let Some(p) = publisher {
        let _ = p.connection.close().await;
    }
    result
}

/// Publishes the messages after the cursor batch by batch, moving the cursor past a batch
/// only once the broker has confirmed all of it.
async fn publish_new(
    state: &AppState,
    target: &AmqpTarget,
    publisher: &mut Option<Publisher>,
) -> Result<(), String> {
    let mut after = outbox::cursor(&state.db, CURSOR)
        .await
        .map_err(|e| e.to_string())?;
    loop {
        let messages = outbox::since(&state.db, after, 100)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = messages.last().map(|m| m.id) else {
            return Ok(());
        };
        if publisher.as_ref().is_none_or(|p| !p.connection.is_open()) {
            *publisher = Some(connect(target).await?);
        }
        let open = publisher.as_mut().expect("connected above");
        let mut unconfirmed = Unconfirmed::default();
        for message in &messages {
            publish(&open.channel, message).await?;
            unconfirmed.published(open.next_tag);
            open.next_tag += 1;
        }
        while !unconfirmed.is_empty() {
            let confirm = tokio::time::timeout(CONFIRM_WAIT, open.confirms.recv())
                .await
                .map_err(|_| "the broker did not confirm the messages in time".to_string())?
                .ok_or("the AMQP channel closed before confirming")?;
            unconfirmed.settle(confirm)?;
        }
        after = last;
        outbox::advance_cursor(&state.db, CURSOR, after)
            .await
            .map_err(|e| e.to_string())?;
    }
}

async fn connect(target: &AmqpTarget) -> Result<Publisher, String> {
    let args = OpenConnectionArguments::new(
        &target.host,
        target.port,
        &target.username,
        &target.password,
    )
    .virtual_host(&target.vhost)
    .connection_name("sluice")
    .finish();
    let connection = Connection::open(&args).await.map_err(|e| {
        format!(
            "cannot connect to AMQP at {}:{}: {e}",
            target.host, target.port
        )
    })?;
    let channel = connection
        .open_channel(None)
        .await
        .map_err(|e| format!("cannot open an AMQP channel: {e}"))?;
    let (sender, confirms) = mpsc::unbounded_channel();
    channel
        .register_callback(ConfirmForwarder(sender))
        .await
        .map_err(|e| format!("cannot watch the AMQP channel: {e}"))?;
    channel
        .confirm_select(ConfirmSelectArguments::default())
        .await
        .map_err(|e| format!("the broker refused publisher confirms: {e}"))?;
    Ok(Publisher {
        connection,
        channel,
        confirms,
        next_tag: 1,
    })
}

/// The namespace of Sluice's message ids (a UUID of its own, fixed for good).
const MESSAGE_ID_NAMESPACE: uuid::Uuid = uuid::uuid!("6f1c2b9e-5d3a-4e7f-9a41-0c8d2e6b7f15");

/// A message's id: fedora-messaging wants UUIDs (its replay tools refuse anything else), and a
/// message published again must keep its id for de-duplication, so it is a UUIDv5 of the
/// outbox row's id.
pub fn message_id(outbox_id: i64) -> String {
    uuid::Uuid::new_v5(
        &MESSAGE_ID_NAMESPACE,
        format!("outbox:{outbox_id}").as_bytes(),
    )
    .to_string()
}

async fn publish(channel: &Channel, message: &OutboxMessage) -> Result<(), String> {
    let sent_at = app::model::time_fmt::rfc3339_millis(app::backend::infra::clock::now_millis());
    let properties = BasicProperties::default()
        .with_content_type("application/json")
        .with_content_encoding("utf-8")
        .with_persistence(true)
        .with_message_id(&message_id(message.id))
        .with_headers(headers(message, &sent_at))
        .finish();
    channel
        .basic_publish(
            properties,
            message.payload.clone().into_bytes(),
            BasicPublishArguments::new(EXCHANGE, &message.topic),
        )
        .await
        .map_err(|e| format!("AMQP publish failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_uuids_that_stay_the_same_for_a_message() {
        let id = message_id(42);
        let parsed = uuid::Uuid::parse_str(&id).unwrap();
        assert_eq!(parsed.get_version_num(), 5);
        assert_eq!(id, message_id(42));
        assert_ne!(id, message_id(43));
    }

    #[test]
    fn amqp_urls_give_host_port_credentials_and_vhost() {
        assert_eq!(
            parse_url("amqp://guest:guest@127.0.0.1:5672").unwrap(),
            AmqpTarget {
                host: "127.0.0.1".into(),
                port: 5672,
                username: "guest".into(),
                password: "guest".into(),
                vhost: "/".into()
            }
        );
        let t = parse_url("amqp://u:p%40ss@mq.example/%2ffedora").unwrap();
        assert_eq!(
            (t.port, t.password.as_str(), t.vhost.as_str()),
            (5672, "p@ss", "/fedora")
        );
        assert!(parse_url("http://x").is_err());
        // A non-ASCII character after '%' once panicked here.
        assert!(parse_url("amqp://u:p%é1@mq.example/").is_ok());
        assert!(parse_url("amqp://u:p%ff@mq.example/").is_err());
    }
}
