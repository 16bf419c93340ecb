//! Rampart's HTTP edge: configuration, the API routes and their
//! extractors, the one error → problem+json mapping, metrics, the OpenAPI
//! document and the [`Application`] that runs them. The logic lives in
//! `rampart-app` (services) and `rampart-ingest` (the pipeline).

pub mod app;
pub mod body;
pub mod client_ip;
pub mod config;
pub mod error;
pub mod extract;
pub mod limits;
pub mod metrics;
pub mod router;
pub mod routes;
mod serve;
pub mod state;
pub mod telemetry;
pub mod ui;

pub use app::{Application, ShutdownHandle, StartError};
pub use config::{Config, LogFormat, ServeOptions};
