//! The `api` function: the REST API under `/v1`. `router` is the whole of it; the Lambda
//! `main` and the local runtime both serve this same router.

mod openapi;
mod routes;

pub use openapi::ApiDoc;

use atende_runtime::AppContext;
use atende_runtime::auth::require_caller;
use atende_runtime::http::with_standard_layers;
use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};

pub fn router(ctx: AppContext) -> Router {
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
        .route_layer(from_fn_with_state(ctx.clone(), require_caller));
    let public = Router::new()
        .route("/v1/auth/login", post(routes::auth::login))
        .route("/v1/openapi.json", get(openapi::document));
    with_standard_layers(authenticated.merge(public).with_state(ctx))
}
