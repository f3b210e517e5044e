//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// What the document says beyond its operations (those come from the routes, see
/// `crate::routes`).
#[derive(OpenApi)]
#[openapi(
    info(title = "atende API", description = "WhatsApp-first customer-service CRM"),
    // Enums used only by query parameters are not collected from the paths.
    components(schemas(
        atende_core::conversations::sessions::Tab,
        atende_core::conversations::lifecycle::TeamSessions,
        atende_core::conversations::lifecycle::UserSessions,
        atende_core::reports::GroupBy,
    ))
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
                    .bearer_format("JWT or atd_ API token")
                    .build(),
            ),
        );
    }
}

/// The answers every route can give besides its own, declared on each operation: 401 and
/// 429 (the request limits) for authenticated routes; 400 (does not fit the schema) and 422 (fits, breaks a rule the
/// schema cannot state) for routes taking a body or query parameters; 413/415 for bodies;
/// 404 for routes naming a resource in their path or by an `…_id` query parameter; 409 for
/// changes (PUT, PATCH, DELETE: a concurrent change); 500 and 503 everywhere. Routes naming resources in their body declare their 404 themselves.
struct StandardResponses;

impl Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, ResponseBuilder, content::ContentBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            // A change to a stored record is conditional on the version read: two at once,
            // and one of them is told so.
            for change in [&mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten() {
                change.responses.responses.entry("409".to_owned()).or_insert_with(|| {
                    error("The record changed meanwhile (or the change clashes with its state); read it again and retry.")
                });
            }
            let operations =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                use utoipa::openapi::path::ParameterIn;
                let parameters = operation.parameters.as_deref().unwrap_or_default();
                let in_path = parameters.iter().any(|p| p.parameter_in == ParameterIn::Path);
                let in_query = parameters.iter().any(|p| p.parameter_in == ParameterIn::Query);
                let names_by_query = parameters
                    .iter()
                    .any(|p| p.parameter_in == ParameterIn::Query && p.name.ends_with("_id"));
                let body = operation.request_body.is_some();
                let mut add = |code: &str, description: &str| {
                    operation
                        .responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error(description));
                };
                if operation.security.is_some() {
                    add("401", "No valid session or API token.");
                    add("429", "The account's or the API token's request limit is reached; see Retry-After.");
                }
                if body || in_query {
                    add("400", "The request does not fit the schema.");
                    add("422", "The request fits the schema but breaks a rule it cannot state.");
                }
                if body {
                    add("413", "The body is too large.");
                    add("415", "The body is not of the declared content type.");
                }
                if in_path || names_by_query {
                    add("404", "No such resource in this account.");
                }
                add("500", "A failure of ours; the body is opaque.");
                add("503", "A backend is briefly unavailable; try again.");
            }
        }
    }
}

/// The document: the base above, every route's operation, the bearer scheme and the
/// standard answers.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::operations().into_openapi());
    BearerAuth.modify(&mut doc);
    StandardResponses.modify(&mut doc);
    doc
}

/// `GET /v1/openapi.json` (built once).
pub async fn document() -> Json<&'static utoipa::openapi::OpenApi> {
    static DOCUMENT: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    Json(DOCUMENT.get_or_init(openapi_document))
}
