//! The OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Rampart API", description = "Self-hosted security operations platform."),
    paths(
        routes::health::health, routes::health::ready, routes::health::metrics,
        routes::auth::login, routes::auth::refresh, routes::auth::logout,
        routes::users::me, routes::users::list, routes::users::create, routes::users::get,
        routes::users::update, routes::users::delete,
        routes::api_keys::create, routes::api_keys::list, routes::api_keys::get, routes::api_keys::revoke,
        routes::orgs::current, routes::orgs::list, routes::orgs::create,
        routes::orgs::settings, routes::orgs::update_settings,
        routes::events::ingest, routes::events::ingest_raw, routes::events::search,
        routes::events::get, routes::events::stats,
        routes::validation::list, routes::validation::create, routes::validation::get,
        routes::validation::replace, routes::validation::delete, routes::validation::counts,
        routes::rules::list, routes::rules::create, routes::rules::get, routes::rules::replace,
        routes::rules::delete, routes::rules::enable, routes::rules::disable,
        routes::rules::validate, routes::rules::test,
        routes::rules::field_mapping, routes::rules::replace_field_mapping,
        routes::incidents::list, routes::incidents::create, routes::incidents::get,
        routes::incidents::update, routes::incidents::comment, routes::incidents::alerts,
        routes::audit::list,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An access token from /api/v1/auth/login, or an API key rk_…",
                    ))
                    .build(),
            ),
        );
    }
}

/// Serves the document.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
