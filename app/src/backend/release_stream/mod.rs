pub mod events;
pub mod rules;
pub mod timeline_cache;
pub mod views;
