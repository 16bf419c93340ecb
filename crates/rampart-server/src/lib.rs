//! Rampart's HTTP server: configuration, authentication, the API routes,
//! metrics and the [`Application`] that runs them.

pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod ingest;
pub mod metrics;
pub mod openapi;
pub mod paging;
pub mod routes;
mod serve;
pub mod service;
pub mod state;
pub mod telemetry;

pub use app::{Application, ShutdownHandle, StartError};
pub use config::{Config, LogFormat, ServeOptions};
