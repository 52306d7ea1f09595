//! Types shared by the server and the browser, and the pure rules that go with them.
//! Nothing here does I/O.

pub mod account;
pub mod catalog;
pub mod device_report;
pub mod dist;
pub mod mirrors;
pub mod outbound;
pub mod permission;
pub mod release_stream;
pub mod report_key;
pub mod role;
pub mod rollout;
pub mod time_fmt;
pub mod timeline;
pub mod version;
pub mod webhook;

pub use account::*;
pub use permission::{Access, Permission};
pub use role::Role;
