//! Authentication at the HTTP edge: login sessions are HS256 JWTs, integrators use API
//! tokens. The middleware turns either into a [`Caller`] on the request; handlers take the
//! [`Authenticated`] extractor and pass the caller to the domain, which scopes every key by
//! the caller's account. No handler ever reads an account id from the request.

use crate::context::AppContext;
use crate::http_error::ApiError;
use atende_core::accounts::{Caller, login, tokens};
use atende_core::secret::Secret;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

pub use crate::jwt::Auth;

fn bearer(parts: &axum::http::HeaderMap) -> Option<Secret> {
    let value = parts.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| Secret::new(token.trim()))
}

/// Middleware for every `/v1` route but login: resolves the credential into a [`Caller`].
pub async fn require_caller(
    State(ctx): State<AppContext>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let credential = bearer(request.headers()).ok_or_else(|| {
        ApiError::unauthorized("send a session or API token as `Authorization: Bearer <token>`")
    })?;
    let caller = if tokens::looks_like_api_token(credential.expose()) {
        tokens::authenticate(&ctx.deps, &credential).await?
    } else {
        let (account, user) = ctx.auth.verify(credential.expose()).ok_or_else(|| {
            ApiError::unauthorized("the session token is not valid or has expired; log in again")
        })?;
        login::caller_for(&ctx.deps, &account, &user).await?
    };
    tracing::Span::current().record("account", caller.account_id.as_str());
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

/// The caller of an authenticated route.
pub struct Authenticated(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(Authenticated)
            .ok_or_else(|| ApiError::unauthorized("this route needs a session or API token"))
    }
}
