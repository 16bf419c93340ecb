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
        routes::audit::list, routes::overview::get,
        routes::jobs::list, routes::jobs::get, routes::jobs::retry, routes::jobs::cancel,
        routes::flags::list, routes::flags::create, routes::flags::get, routes::flags::replace,
        routes::flags::delete, routes::flags::evaluate,
        routes::feedback::submit, routes::feedback::list, routes::feedback::mine,
        routes::feedback::change,
        routes::vulns::create_asset, routes::vulns::assets, routes::vulns::asset,
        routes::vulns::update_asset, routes::vulns::delete_asset, routes::vulns::import, routes::vulns::upload, routes::ioc::extract,
        routes::vulns::imports, routes::vulns::findings, routes::vulns::finding,
        routes::vulns::decide, routes::vulns::intel_sources, routes::vulns::cve_intel,
        routes::vulns::report, routes::vulns::import_diff, routes::vulns::policy,
        routes::vulns::set_policy,
        routes::watchlists::create, routes::watchlists::list, routes::watchlists::get,
        routes::watchlists::update, routes::watchlists::delete, routes::watchlists::import,
        routes::watchlists::export, routes::watchlists::hunt, routes::entities::timeline, routes::hunt::hunt,
        routes::hunt::saved, routes::hunt::save, routes::hunt::saved_hunt, routes::hunt::update_saved,
        routes::hunt::delete_saved, routes::hunt::run_saved,
        routes::phishing::submit, routes::phishing::list, routes::phishing::get, routes::phishing::raw,
        routes::phishing::add_to_watchlist, routes::phishing::settings, routes::phishing::set_settings,
        routes::scans::scope, routes::scans::add_scope, routes::scans::remove_scope,
        routes::scans::start, routes::scans::list, routes::scans::get, routes::scans::cancel,
        routes::scans::schedules, routes::scans::create_schedule, routes::scans::delete_schedule,
        routes::notifications::channels, routes::notifications::create_channel,
        routes::notifications::get_channel, routes::notifications::update_channel,
        routes::notifications::delete_channel, routes::notifications::test_channel,
        routes::notifications::rules, routes::notifications::create_rule,
        routes::notifications::get_rule, routes::notifications::update_rule,
        routes::notifications::delete_rule, routes::notifications::deliveries,
        routes::notifications::delivery, routes::notifications::my_prefs,
        routes::notifications::set_my_prefs,
        routes::auth::otp_request, routes::auth::otp_verify, routes::auth::mfa,
        routes::auth::mfa_enroll, routes::auth::mfa_enroll_confirm,
        routes::auth::password_forgot, routes::auth::password_reset, routes::auth::change_password,
        routes::auth::totp_status, routes::auth::totp_begin, routes::auth::totp_confirm,
        routes::auth::totp_disable, routes::auth::totp_reset,
    ),
    components(schemas(rampart_ingest::RawFormat)),
    modifiers(&BearerAuth, &Conventions, &ClosedVariants)
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

/// Schemas of internally tagged enums that refuse unknown members (serde's
/// `deny_unknown_fields`, which utoipa does not carry over to the
/// variants): each variant's object says `additionalProperties: false`.
struct ClosedVariants;

const CLOSED_VARIANT_SCHEMAS: &[&str] = &["Check", "Stickiness", "ContextField", "ChannelTarget"];

impl Modify for ClosedVariants {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        use utoipa::openapi::RefOr;
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for name in CLOSED_VARIANT_SCHEMAS {
            if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut(*name) {
                for variant in &mut one_of.items {
                    if let RefOr::T(Schema::Object(object)) = variant {
                        object.additional_properties =
                            Some(Box::new(AdditionalProperties::FreeForm(false)));
                    }
                }
            }
        }
    }
}

/// What every operation shares, written once instead of on each handler:
/// path parameters named by the path template, errors as
/// `application/problem+json`, and the error statuses the edge itself may
/// answer (401, 403 and 429 for secured operations, 400 for bad parameters or
/// bodies, 404 for an unknown id, 413 and 415 for bodies).
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let names = template_names(path);
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                conventions(operation, &names);
            }
        }
    }
}

/// The `{name}`s of a path template.
fn template_names(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

fn conventions(operation: &mut utoipa::openapi::path::Operation, names: &[String]) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    for name in names {
        let declared = parameters
            .iter()
            .any(|p| p.name == *name && p.parameter_in == ParameterIn::Path);
        if !declared {
            parameters.push(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some("The id, as the API returned it"))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            );
        }
    }
    let has_parameters = !parameters.is_empty();
    if parameters.is_empty() {
        operation.parameters = None;
    }
    if let Some(body) = &mut operation.request_body {
        // Ingest bodies may be empty: nothing to store is not an error.
        if body.content.contains_key("text/plain")
            || body.content.contains_key("application/x-ndjson")
        {
            body.required = Some(Required::False);
        }
    }
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let responses = &mut operation.responses.responses;
    for response in responses.values_mut() {
        if let utoipa::openapi::RefOr::T(response) = response {
            if let Some(content) = response.content.shift_remove("application/json") {
                let is_problem = matches!(&content.schema, Some(utoipa::openapi::RefOr::Ref(r)) if r.ref_location.ends_with("/Problem"));
                let key = if is_problem {
                    "application/problem+json"
                } else {
                    "application/json"
                };
                response.content.insert(key.to_owned(), content);
            }
        }
    }
    let mut standard: Vec<(&str, &str)> = Vec::new();
    if secured {
        standard.push(("401", "Missing, invalid or expired credentials"));
        standard.push(("403", "The caller's role or key scopes do not allow this"));
        standard.push((
            "429",
            "Over the caller's rate limit (RateLimit-Policy, RateLimit); retry after Retry-After seconds",
        ));
    }
    if has_parameters || operation.request_body.is_some() {
        standard.push((
            "400",
            "A parameter or the body is invalid; `field` names it",
        ));
    }
    if !names.is_empty() {
        standard.push(("404", "No such item in the caller's organisation"));
    }
    if operation.request_body.is_some() {
        standard.push(("413", "The body is larger than the limit"));
        standard.push((
            "415",
            "Unsupported Content-Type, charset or Content-Encoding",
        ));
    }
    for (status, description) in standard {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| problem_response(description));
    }
}

fn problem_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

/// The document as served: query parameters are marked `allowEmptyValue`
/// (utoipa has no field for it), since `name=` reads as not given.
pub fn document() -> serde_json::Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    if let Some(paths) = document.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for operation in paths
            .values_mut()
            .filter_map(|p| p.as_object_mut())
            .flat_map(|p| p.values_mut())
        {
            let parameters = operation
                .get_mut("parameters")
                .and_then(|p| p.as_array_mut());
            for parameter in parameters.into_iter().flatten() {
                let optional = parameter.get("required") != Some(&serde_json::Value::Bool(true));
                if optional && parameter.get("in").and_then(|i| i.as_str()) == Some("query") {
                    parameter["allowEmptyValue"] = serde_json::Value::Bool(true);
                }
            }
        }
    }
    document
}

/// Serves the document.
pub async fn serve() -> Json<serde_json::Value> {
    Json(document())
}
