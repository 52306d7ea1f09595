//! The `sluice` service: configuration, command line, start-up and the HTTP edge.

pub mod cli;
pub mod config;
pub mod events_file;
pub mod jobs;
pub mod routes;
pub mod serve;
pub mod simulate;
pub mod startup;
