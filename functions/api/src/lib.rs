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
use axum::middleware::from_fn_with_state;
use utoipa_axum::router::OpenApiRouter;

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
    let (authenticated, _) =
        resources().route_layer(from_fn_with_state(ctx.clone(), require_caller)).split_for_parts();
    let (public, _) = routes::auth::public_router().split_for_parts();
    authenticated
        .merge(public)
        .route("/v1/openapi.json", axum::routing::get(openapi::document))
        .with_state(ctx)
}

/// Every route behind authentication, each declared once: its handler's annotation gives
/// the router its path and method and the OpenAPI document its operation.
fn resources() -> OpenApiRouter<AppContext> {
    OpenApiRouter::new()
        .merge(routes::auth::router())
        .merge(routes::users::router())
        .merge(routes::teams::router())
        .merge(routes::tokens::router())
        .merge(routes::conversations::router())
        .merge(routes::routing::router())
        .merge(routes::tags::router())
        .merge(routes::contacts::router())
        .merge(routes::crm::router())
        .merge(routes::campaigns::router())
        .merge(routes::flows::router())
        .merge(routes::payments::router())
        .merge(routes::audit::router())
        .merge(routes::reports::router())
        .merge(routes::live::router())
        .merge(routes::chat::router())
        .merge(routes::webhooks::router())
}

/// The operations of every route, public and authenticated.
fn operations() -> OpenApiRouter<AppContext> {
    resources().merge(routes::auth::public_router())
}
