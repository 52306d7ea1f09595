pub mod publishing;
pub mod store;
