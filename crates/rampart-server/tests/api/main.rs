//! API integration tests: the real server on a random port, on SQLite and
//! on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod auth;
mod browser;
mod cache;
mod detection;
mod entities;
mod events;
mod factors;
mod feedback;
mod flags;
mod helpers;
mod hunt;
mod intel;
mod ioc;
mod jobs;
mod limits;
mod notifications;
mod operations;
mod phishing;
mod saved_hunts;
mod scans;
mod security;
mod ui;
mod validation;
mod vulns;
mod vulns_ui;
mod watchlists;
