//! The `api` function: the REST API under `/v1`. `router` is the whole of it; the Lambda
//! `main` and the local runtime both serve this same router.

mod dto;
mod openapi;
mod routes;

pub use openapi::{ApiDoc, openapi_document};

use atende_runtime::AppContext;
use atende_runtime::auth::require_caller;
use atende_runtime::http::with_standard_layers;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, patch, post, put};
use routes::conversations as cv;
use routes::routing as rt;

/// The `api` function: every `/v1` route, behind the HTTP API.
pub fn function() -> atende_runtime::function::FunctionSpec {
    use atende_runtime::function::{FunctionSpec, Trigger};
    FunctionSpec { name: "api", trigger: Trigger::Http { paths: vec!["/v1/{proxy+}".into()] } }
}

/// The API with the standard layers (what the Lambda serves).
pub fn router(ctx: AppContext) -> Router {
    with_standard_layers(routes(ctx))
}

/// The bare routes, for merging with other functions' routes (the local runtime).
pub fn routes(ctx: AppContext) -> Router {
    let authenticated = Router::new()
        .route("/v1/me", get(routes::auth::me).patch(routes::auth::update_me))
        .route("/v1/users", get(routes::users::list).post(routes::users::create))
        .route(
            "/v1/users/{id}",
            get(routes::users::get).patch(routes::users::update).delete(routes::users::delete),
        )
        .route("/v1/teams", get(routes::teams::list).post(routes::teams::create))
        .route(
            "/v1/teams/{id}",
            get(routes::teams::get).patch(routes::teams::update).delete(routes::teams::delete),
        )
        .route("/v1/teams/{id}/members", get(routes::teams::members))
        .route(
            "/v1/teams/{id}/members/{user_id}",
            put(routes::teams::set_member).delete(routes::teams::remove_member),
        )
        .route("/v1/api-tokens", get(routes::tokens::list).post(routes::tokens::create))
        .route("/v1/api-tokens/{id}", delete(routes::tokens::revoke))
        .route("/v1/account", get(cv::get_account).patch(cv::update_account))
        .route("/v1/channels", get(cv::list_channels).post(cv::create_channel))
        .route("/v1/channels/{id}", get(cv::get_channel).patch(cv::update_channel).delete(cv::remove_channel))
        .route("/v1/contacts", get(cv::search_contacts).post(cv::create_contact))
        .route("/v1/contacts/{id}", get(cv::get_contact).patch(cv::update_contact))
        .route("/v1/templates", get(cv::list_templates).post(cv::create_template))
        .route("/v1/templates/{id}", get(cv::get_template).delete(cv::delete_template))
        .route("/v1/sessions", get(cv::list_sessions).post(cv::start_session))
        .route("/v1/sessions/counts", get(cv::session_counts))
        .route("/v1/sessions/bulk-complete", post(cv::bulk_complete))
        .route("/v1/sessions/{id}", get(cv::get_session))
        .route("/v1/sessions/{id}/messages", get(cv::list_messages).post(cv::send_message))
        .route("/v1/sessions/{id}/assume", post(cv::assume))
        .route("/v1/sessions/{id}/return", post(cv::return_to_queue))
        .route("/v1/sessions/{id}/complete", post(cv::complete))
        .route("/v1/sessions/{id}/restart", post(cv::restart))
        .route("/v1/sessions/{id}/transfer", post(cv::transfer))
        .route("/v1/sessions/{id}/notes", get(cv::list_notes).post(cv::add_note))
        .route("/v1/sessions/{id}/notes/{note_id}", patch(cv::edit_note).delete(cv::delete_note))
        .route("/v1/messages/{id}/cancel", post(cv::cancel_message))
        .route("/v1/wallets", get(rt::list_wallets).post(rt::create_wallet))
        .route("/v1/wallets/{id}", get(rt::get_wallet).put(rt::update_wallet).delete(rt::delete_wallet))
        .route("/v1/wallets/{id}/contacts/{contact_id}", put(rt::join_wallet).delete(rt::leave_wallet))
        .route("/v1/business-hours", get(rt::get_hours).put(rt::put_hours).delete(rt::delete_hours))
        .route("/v1/business-hours/status", get(rt::hours_status))
        .route("/v1/channels/{id}/business-hours", get(rt::get_channel_hours).put(rt::put_channel_hours))
        .route("/v1/channels/{id}/keep-alive", get(rt::get_keep_alive).put(rt::put_keep_alive))
        .route("/v1/scheduled-messages", get(rt::list_scheduled).post(rt::create_scheduled))
        .route("/v1/scheduled-messages/{id}", get(rt::get_scheduled))
        .route("/v1/scheduled-messages/{id}/cancel", post(rt::cancel_scheduled))
        .route("/v1/scheduled-messages/{id}/reschedule", post(rt::reschedule))
        .route(
            "/v1/uploads",
            post(cv::upload).layer(DefaultBodyLimit::max(atende_core::conversations::uploads::MAX_UPLOAD)),
        )
        .route_layer(from_fn_with_state(ctx.clone(), require_caller));
    let public = Router::new()
        .route("/v1/auth/login", post(routes::auth::login))
        .route("/v1/openapi.json", get(openapi::document));
    authenticated.merge(public).with_state(ctx)
}
