pub mod rollout_tracker;
pub mod store;
