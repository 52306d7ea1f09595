//! `#[server]` functions, one file per domain. Each one checks the caller's role itself, calls
//! the backend and lets `respond` give errors their HTTP status.

pub mod audit;
pub mod devices;
pub mod registry;
pub mod release_stream;
pub mod rollouts;
pub mod session;
pub mod tokens;
pub mod users;
pub mod webhooks;

/// Where the server functions are mounted: `POST /rpc/<endpoint>`.
pub const PREFIX: &str = "/rpc";
