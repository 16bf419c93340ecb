//! The API's services: the logic behind the handlers, free of HTTP
//! extraction, and shared with the CLI.

pub mod accounts;
pub mod alert_recording;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod detection;
pub mod field_mapping;
pub mod incidents;
pub mod rules;
pub mod validation;
