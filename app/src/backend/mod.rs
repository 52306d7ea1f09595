//! Server-only code: database access, services, sessions and authentication.

pub mod audit;
pub mod builds;
pub mod caller;
pub mod catalog_store;
pub mod client_address;
pub mod clock;
pub mod db;
pub mod devices;
pub mod dists;
pub mod http_error;
pub mod login;
pub mod outbound;
pub mod outbox;
pub mod page_policy;
pub mod passwords;
pub mod release_rules;
pub mod release_stream;
pub mod release_views;
pub mod reports;
pub mod rollout_tracker;
pub mod rollouts;
pub mod server_fn;
pub mod state;
pub mod stream_slots;
pub mod timeline_cache;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub use caller::Caller;
pub use db::{Backend, Db};
pub use state::AppState;
