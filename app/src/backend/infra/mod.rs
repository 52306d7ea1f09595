pub mod audit;
pub mod clock;
pub mod db;
