pub mod builds;
pub mod dists;
pub mod stream_dists;
