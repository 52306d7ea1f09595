//! Server-only code, grouped by domain. Each domain owns its tables and is the one write path
//! for them; `infra` is what every domain uses (database, clock, audit log) and `edge` is what the two edges (REST handlers and `#[server]` functions) share. `state`
//! gathers what a running server holds; domains take the parts they need, never the whole.
//! No domain imports one that imports it back: `scripts/module-cycles.py` checks this.

pub mod accounts;
pub mod catalog;
pub mod devices;
pub mod edge;
pub mod infra;
pub mod messaging;
pub mod registry;
pub mod release_stream;
pub mod rollouts;
pub mod state;

pub use edge::caller::Caller;
pub use infra::db::{Backend, Db};
pub use state::AppState;
