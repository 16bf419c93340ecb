//! The API's request and response bodies, in one place: what clients send
//! and get back, as the OpenAPI document describes them. Services take and
//! return these; the HTTP edge (de)serialises them and nothing else.

pub mod accounts;
pub mod audit;
pub mod entities;
pub mod events;
pub mod feedback;
pub mod flags;
pub mod health;
pub mod hunt;
pub mod incidents;
pub mod jobs;
pub mod notifications;
pub mod overview;
pub mod phishing;
pub mod rules;
pub mod validation;
pub mod vulns;
pub mod watchlists;
