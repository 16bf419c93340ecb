//! The HTTP routes and the middleware around them.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod entities;
pub mod events;
pub mod feedback;
pub mod flags;
pub mod health;
pub mod hunt;
pub mod incidents;
pub mod ioc;
pub mod jobs;
pub mod notifications;
pub mod openapi;
pub mod orgs;
pub mod overview;
pub mod params;
pub mod phishing;
pub mod rules;
pub mod scans;
pub mod users;
pub mod validation;
pub mod vulns;
pub mod watchlists;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub use rampart_app::paging::{Page, PageParams, TextCursor};

/// The API under `/api/v1`, with the health, readiness and metrics
/// endpoints beside it (no middleware: see `crate::router`).
pub fn api() -> Router<AppState> {
    let api =
        Router::new()
            .route("/auth/login", post(auth::login))
            .route("/auth/refresh", post(auth::refresh))
            .route("/auth/logout", post(auth::logout))
            .route("/me", get(users::me))
            .route("/org", get(orgs::current))
            .route(
                "/org/settings",
                get(orgs::settings).put(orgs::update_settings),
            )
            .route("/orgs", get(orgs::list).post(orgs::create))
            .route("/users", get(users::list).post(users::create))
            .route(
                "/users/{id}",
                get(users::get).patch(users::update).delete(users::delete),
            )
            .route("/api-keys", get(api_keys::list).post(api_keys::create))
            .route(
                "/api-keys/{id}",
                get(api_keys::get).delete(api_keys::revoke),
            )
            .route("/events", get(events::search).post(events::ingest))
            .route("/events/raw", post(events::ingest_raw))
            .route("/events/stats", get(events::stats))
            .route("/events/{id}", get(events::get))
            .route(
                "/validation-rules",
                get(validation::list).post(validation::create),
            )
            .route(
                "/validation-rules/{id}",
                get(validation::get)
                    .put(validation::replace)
                    .delete(validation::delete),
            )
            .route("/validation-rules/{id}/counts", get(validation::counts))
            .route("/rules", get(rules::list).post(rules::create))
            .route("/rules/validate", post(rules::validate))
            .route("/rules/test", post(rules::test))
            .route(
                "/rules/{id}",
                get(rules::get).put(rules::replace).delete(rules::delete),
            )
            .route("/rules/{id}/enable", post(rules::enable))
            .route("/rules/{id}/disable", post(rules::disable))
            .route(
                "/detection/field-mapping",
                get(rules::field_mapping).put(rules::replace_field_mapping),
            )
            .route("/incidents", get(incidents::list).post(incidents::create))
            .route(
                "/incidents/{id}",
                get(incidents::get).patch(incidents::update),
            )
            .route("/incidents/{id}/comments", post(incidents::comment))
            .route("/alerts", get(incidents::alerts))
            .route("/audit", get(audit::list))
            .route("/feedback", get(feedback::list).post(feedback::submit))
            .route("/ioc/extract", post(ioc::extract))
            .route("/feedback/mine", get(feedback::mine))
            .route("/feedback/{id}", axum::routing::patch(feedback::change))
            .route("/assets", get(vulns::assets).post(vulns::create_asset))
            .route(
                "/assets/{id}",
                get(vulns::asset)
                    .patch(vulns::update_asset)
                    .delete(vulns::delete_asset),
            )
            .route(
                "/imports",
                get(vulns::imports).post(vulns::import).layer(
                    axum::extract::DefaultBodyLimit::max(rampart_scan::formats::MAX_REPORT_BYTES),
                ),
            )
            .route(
                "/watchlists",
                get(watchlists::list).post(watchlists::create),
            )
            .route(
                "/watchlists/import",
                post(watchlists::import).layer(axum::extract::DefaultBodyLimit::max(
                    rampart_app::watchlists::MAX_FEED_BYTES,
                )),
            )
            .route("/watchlists/export", get(watchlists::export))
            .route(
                "/watchlists/{id}",
                get(watchlists::get)
                    .patch(watchlists::update)
                    .delete(watchlists::delete),
            )
            .route("/watchlists/{id}/hunt", post(watchlists::hunt))
            .route(
                "/phishing/messages",
                get(phishing::list).post(phishing::submit).layer(
                    axum::extract::DefaultBodyLimit::max(rampart_app::phishing::MAX_MESSAGE_BYTES),
                ),
            )
            .route("/phishing/messages/{id}", get(phishing::get))
            .route("/phishing/messages/{id}/raw", get(phishing::raw))
            .route(
                "/phishing/messages/{id}/watchlist",
                post(phishing::add_to_watchlist),
            )
            .route(
                "/phishing/settings",
                get(phishing::settings).put(phishing::set_settings),
            )
            .route("/entities/{kind}/{value}", get(entities::timeline))
            .route("/hunt", post(hunt::hunt))
            .route("/saved-hunts", get(hunt::saved).post(hunt::save))
            .route(
                "/saved-hunts/{id}",
                get(hunt::saved_hunt)
                    .put(hunt::update_saved)
                    .delete(hunt::delete_saved),
            )
            .route("/saved-hunts/{id}/run", post(hunt::run_saved))
            .route("/findings", get(vulns::findings))
            .route(
                "/findings/policy",
                get(vulns::policy).put(vulns::set_policy),
            )
            .route("/findings/{id}", get(vulns::finding).patch(vulns::decide))
            .route("/intel", get(vulns::intel_sources))
            .route("/reports/{format}", get(vulns::report))
            .route("/imports/{id}/diff", get(vulns::import_diff))
            .route("/imports/uploads/{id}", get(vulns::upload))
            .route("/scope", get(scans::scope).post(scans::add_scope))
            .route("/scope/{id}", axum::routing::delete(scans::remove_scope))
            .route("/scans", get(scans::list).post(scans::start))
            .route("/scans/{id}", get(scans::get))
            .route("/scans/{id}/cancel", post(scans::cancel))
            .route(
                "/scan-schedules",
                get(scans::schedules).post(scans::create_schedule),
            )
            .route(
                "/scan-schedules/{id}",
                axum::routing::delete(scans::delete_schedule),
            )
            .route("/intel/cves/{cve}", get(vulns::cve_intel))
            .route("/flags", get(flags::list).post(flags::create))
            .route("/flags/evaluate", post(flags::evaluate))
            .route(
                "/flags/{key}",
                get(flags::get).put(flags::replace).delete(flags::delete),
            )
            .route(
                "/notifications/channels",
                get(notifications::channels).post(notifications::create_channel),
            )
            .route(
                "/notifications/channels/{id}",
                get(notifications::get_channel)
                    .patch(notifications::update_channel)
                    .delete(notifications::delete_channel),
            )
            .route(
                "/notifications/channels/{id}/test",
                post(notifications::test_channel),
            )
            .route(
                "/notifications/rules",
                get(notifications::rules).post(notifications::create_rule),
            )
            .route(
                "/notifications/rules/{id}",
                get(notifications::get_rule)
                    .patch(notifications::update_rule)
                    .delete(notifications::delete_rule),
            )
            .route("/notifications/deliveries", get(notifications::deliveries))
            .route(
                "/notifications/deliveries/{id}",
                get(notifications::delivery),
            )
            .route(
                "/me/notifications",
                get(notifications::my_prefs).put(notifications::set_my_prefs),
            )
            .route("/auth/otp/request", post(auth::otp_request))
            .route("/auth/otp/verify", post(auth::otp_verify))
            .route("/auth/mfa", post(auth::mfa))
            .route("/auth/mfa/enroll", post(auth::mfa_enroll))
            .route("/auth/mfa/enroll/confirm", post(auth::mfa_enroll_confirm))
            .route("/auth/password/forgot", post(auth::password_forgot))
            .route("/auth/password/reset", post(auth::password_reset))
            .route("/me/password", post(auth::change_password))
            .route(
                "/me/totp",
                get(auth::totp_status)
                    .post(auth::totp_begin)
                    .delete(auth::totp_disable),
            )
            .route("/me/totp/confirm", post(auth::totp_confirm))
            .route("/users/{id}/totp", axum::routing::delete(auth::totp_reset))
            .route("/jobs", get(jobs::list))
            .route("/jobs/{id}", get(jobs::get))
            .route("/jobs/{id}/retry", post(jobs::retry))
            .route("/jobs/{id}/cancel", post(jobs::cancel))
            .route("/overview", get(overview::get))
            .route("/openapi.json", get(openapi::serve));
    Router::new().nest("/api/v1", api).merge(probes())
}

/// `/health`, `/ready` and `/metrics`: what a serving node has beside its
/// API, and all that a worker-only node serves.
pub fn probes() -> Router<AppState> {
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
}
