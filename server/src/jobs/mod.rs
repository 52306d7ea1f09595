//! Background work that runs beside the HTTP server.

pub mod amqp_confirms;
pub mod amqp_publisher;
pub mod outbound_resolver;
pub mod outbox_worker;
