pub mod caller;
pub mod client_address;
pub mod http_error;
pub mod page_policy;
pub mod server_fn;
