pub mod outbound;
pub mod outbox;
pub mod stream_slots;
pub mod webhooks;
