//! The web UI: server-rendered pages (maud) on the same services as the
//! API, behind cookie sessions with CSRF tokens and a strict
//! Content-Security-Policy. Pages work with links and forms alone; htmx
//! (vendored, no inline code) refreshes parts of some in place.

mod assets;
mod cookies;
mod layout;
mod pages;
mod security;
mod session;

use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// The UI's routes, at the root beside `/api/v1`.
pub fn router(state: AppState) -> Router<AppState> {
    let signed_in = Router::new()
        .route("/", get(pages::dashboard::show))
        .route("/incidents", get(pages::incidents::list))
        .route(
            "/incidents/new",
            get(pages::incidents::new_form).post(pages::incidents::create),
        )
        .route("/incidents/bulk", post(pages::incidents::bulk))
        .route("/incidents/{id}", get(pages::incidents::show))
        .route("/incidents/{id}/assign", post(pages::incidents::assign))
        .route("/incidents/{id}/status", post(pages::incidents::set_status))
        .route("/incidents/{id}/comments", post(pages::incidents::comment))
        .route("/events", get(pages::events::search))
        .route("/events/{id}", get(pages::events::show))
        .route("/entities/{kind}", get(pages::entities::show))
        .route("/hunt", get(pages::hunt::page))
        .route(
            "/hunt/saved",
            get(pages::saved_hunts::list).post(pages::saved_hunts::create),
        )
        .route(
            "/hunt/saved/{id}",
            get(pages::saved_hunts::show).post(pages::saved_hunts::update),
        )
        .route("/hunt/saved/{id}/run", post(pages::saved_hunts::run))
        .route("/hunt/saved/{id}/delete", post(pages::saved_hunts::delete))
        .route("/findings", get(pages::findings::list))
        .route("/findings/{id}", get(pages::findings::show))
        .route("/findings/{id}/status", post(pages::findings::decide))
        .route("/findings/export/{format}", get(pages::findings::export))
        .route(
            "/findings/policy",
            get(pages::findings::policy).post(pages::findings::set_policy),
        )
        .route("/imports/{id}", get(pages::findings::import_diff))
        .route(
            "/assets",
            get(pages::assets::list).post(pages::assets::create),
        )
        .route(
            "/assets/{id}",
            get(pages::assets::show).post(pages::assets::update),
        )
        .route("/assets/{id}/delete", post(pages::assets::delete))
        .route("/imports", get(pages::findings::imports))
        .route("/scans", get(pages::scans::list).post(pages::scans::start))
        .route("/scans/{id}", get(pages::scans::show))
        .route("/scans/{id}/cancel", post(pages::scans::cancel))
        .route("/scans/schedules", post(pages::scans::create_schedule))
        .route(
            "/scans/schedules/{id}/delete",
            post(pages::scans::delete_schedule),
        )
        .route(
            "/scope",
            get(pages::scans::scope).post(pages::scans::add_scope),
        )
        .route("/scope/{id}/delete", post(pages::scans::remove_scope))
        .route(
            "/imports/upload",
            post(pages::assets::upload).layer(DefaultBodyLimit::max(
                rampart_scan::formats::MAX_REPORT_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/admin/api-keys",
            get(pages::api_keys::list).post(pages::api_keys::create),
        )
        .route("/admin/api-keys/{id}/revoke", post(pages::api_keys::revoke))
        .route(
            "/admin/users",
            get(pages::users::list).post(pages::users::create),
        )
        .route("/admin/users/{id}", post(pages::users::change))
        .route("/rules", get(pages::rules::list))
        .route(
            "/rules/new",
            get(pages::rules::new_form).post(pages::rules::create),
        )
        .route(
            "/rules/field-mapping",
            get(pages::field_mapping::show).post(pages::field_mapping::update),
        )
        .route(
            "/rules/{id}",
            get(pages::rules::show).post(pages::rules::update),
        )
        .route("/rules/{id}/enabled", post(pages::rules::set_enabled))
        .route("/admin/audit", get(pages::audit::list))
        .route(
            "/feedback",
            get(pages::feedback::mine).post(pages::feedback::send),
        )
        .route("/admin/feedback", get(pages::feedback::list))
        .route("/ioc", get(pages::ioc::form).post(pages::ioc::extract))
        .route(
            "/watchlists",
            get(pages::watchlists::list).post(pages::watchlists::create),
        )
        .route("/watchlists/import", post(pages::watchlists::import))
        .route(
            "/watchlists/export/{format}",
            get(pages::watchlists::export),
        )
        .route("/watchlists/{id}/hunt", post(pages::watchlists::hunt))
        .route("/watchlists/{id}/delete", post(pages::watchlists::delete))
        .route(
            "/phishing",
            get(pages::phishing::list)
                .post(pages::phishing::report)
                .layer(DefaultBodyLimit::max(
                    rampart_app::phishing::MAX_MESSAGE_BYTES + 64 * 1024,
                )),
        )
        .route("/phishing/settings", post(pages::phishing::save_settings))
        .route("/phishing/{id}", get(pages::phishing::show))
        .route("/phishing/{id}/raw", get(pages::phishing::raw))
        .route(
            "/phishing/{id}/watchlist",
            post(pages::phishing::to_watchlist),
        )
        .route("/admin/feedback/{id}", post(pages::feedback::answer))
        .route("/admin/jobs", get(pages::jobs::list))
        .route("/admin/notifications", get(pages::notifications::admin))
        .route(
            "/admin/notifications/channels",
            post(pages::notifications::create_channel),
        )
        .route(
            "/admin/notifications/channels/{id}/{action}",
            post(pages::notifications::channel_action),
        )
        .route(
            "/admin/notifications/rules",
            post(pages::notifications::create_rule),
        )
        .route(
            "/admin/notifications/rules/{id}/delete",
            post(pages::notifications::delete_rule),
        )
        .route("/security", get(pages::security::show))
        .route("/security/totp", post(pages::security::begin))
        .route("/security/totp/confirm", post(pages::security::confirm))
        .route("/security/totp/disable", post(pages::security::disable))
        .route("/security/password", post(pages::security::change_password))
        .route(
            "/notifications",
            get(pages::notifications::mine).post(pages::notifications::save_mine),
        )
        .route(
            "/admin/flags",
            get(pages::flags::list).post(pages::flags::create),
        )
        .route(
            "/admin/flags/{key}",
            get(pages::flags::show).post(pages::flags::update),
        )
        .route("/admin/flags/{key}/delete", post(pages::flags::delete))
        .route("/admin/jobs/{id}/{action}", post(pages::jobs::change))
        .route(
            "/admin/settings",
            get(pages::settings::show).post(pages::settings::update),
        )
        .route(
            "/validation",
            get(pages::validation::list).post(pages::validation::create),
        )
        .route("/validation/{id}/delete", post(pages::validation::delete))
        .route(
            "/platform/organisations",
            get(pages::organisations::list).post(pages::organisations::create),
        )
        .route("/logout", post(pages::login::logout))
        .route("/theme", post(pages::theme::set))
        .layer(from_fn_with_state(state, session::require_session));
    Router::new()
        .route("/login", get(pages::login::form).post(pages::login::submit))
        .route("/login/mfa", post(pages::login::submit_mfa))
        .route("/login/enroll", post(pages::login::submit_enroll))
        .route(
            "/login/code",
            get(pages::login::code_form).post(pages::login::submit_code),
        )
        .route(
            "/forgot-password",
            get(pages::login::forgot_form).post(pages::login::submit_forgot),
        )
        .route(
            "/reset-password",
            get(pages::login::reset_form).post(pages::login::submit_reset),
        )
        .route("/static/{file}", get(assets::serve))
        .merge(signed_in)
        .layer(from_fn(security::headers))
}
