//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::routes;
use crate::routes::conversations as cv;
use crate::routes::routing as rt;
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "atende API", description = "WhatsApp-first customer-service CRM"),
    paths(
        routes::auth::login, routes::auth::me, routes::auth::update_me,
        routes::users::list, routes::users::create, routes::users::get, routes::users::update, routes::users::delete,
        routes::teams::list, routes::teams::create, routes::teams::get, routes::teams::update, routes::teams::delete,
        routes::teams::members, routes::teams::set_member, routes::teams::remove_member,
        routes::tokens::list, routes::tokens::create, routes::tokens::revoke,
        cv::get_account, cv::update_account,
        cv::list_channels, cv::create_channel, cv::get_channel, cv::update_channel, cv::remove_channel,
        cv::search_contacts, cv::create_contact, cv::get_contact, cv::update_contact,
        cv::list_templates, cv::create_template, cv::get_template, cv::delete_template,
        cv::list_sessions, cv::start_session, cv::session_counts, cv::bulk_complete, cv::get_session,
        cv::list_messages, cv::send_message, cv::assume, cv::return_to_queue, cv::complete, cv::restart, cv::transfer,
        cv::list_notes, cv::add_note, cv::edit_note, cv::delete_note, cv::cancel_message, cv::upload,
        rt::list_wallets, rt::create_wallet, rt::get_wallet, rt::update_wallet, rt::delete_wallet, rt::join_wallet, rt::leave_wallet,
        rt::get_hours, rt::put_hours, rt::delete_hours, rt::hours_status, rt::get_channel_hours, rt::put_channel_hours,
        rt::get_keep_alive, rt::put_keep_alive,
        rt::list_scheduled, rt::create_scheduled, rt::get_scheduled, rt::cancel_scheduled, rt::reschedule,
    ),
    // Enums used only by query parameters are not collected from the paths.
    components(schemas(
        atende_core::conversations::sessions::Tab,
        atende_core::conversations::lifecycle::TeamSessions,
        atende_core::conversations::lifecycle::UserSessions,
    )),
    modifiers(&BearerAuth, &StandardResponses)
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

/// The answers every route can give besides its own, declared on each operation: 401 for
/// authenticated routes, 400/413/415 for routes taking a body, 500 and 503 everywhere.
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
            let operations =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for operation in operations.into_iter().flatten() {
                let mut add = |code: &str, description: &str| {
                    operation
                        .responses
                        .responses
                        .entry(code.to_owned())
                        .or_insert_with(|| error(description));
                };
                if operation.security.is_some() {
                    add("401", "No valid session or API token.");
                }
                if operation.request_body.is_some() {
                    add("400", "The body is not valid.");
                    add("413", "The body is too large.");
                    add("415", "The body is not of the declared content type.");
                }
                add("500", "A failure of ours; the body is opaque.");
                add("503", "A backend is briefly unavailable; try again.");
            }
        }
    }
}

/// The document.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `GET /v1/openapi.json`
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}
