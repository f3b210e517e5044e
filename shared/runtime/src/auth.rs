//! Authentication at the HTTP edge: login sessions are HS256 JWTs, integrators use API
//! tokens. The middleware turns either into a [`Caller`] on the request; handlers take the
//! [`Authenticated`] extractor and pass the caller to the domain, which scopes every key by
//! the caller's account. No handler ever reads an account id from the request.

use crate::context::AppContext;
use crate::http_error::{ApiError, whole_seconds};
use atende_core::accounts::{Caller, login, tokens};
use atende_core::limits::Decision;
use atende_core::secret::Secret;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderValue;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::Digest;

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
    let mut caller = if tokens::looks_like_api_token(credential.expose()) {
        tokens::authenticate(&ctx.deps, &credential).await?
    } else {
        let (account, user) = ctx.auth.verify(credential.expose()).ok_or_else(|| {
            ApiError::unauthorized("the session token is not valid or has expired; log in again")
        })?;
        login::caller_for(&ctx.deps, &account, &user).await?
    };
    caller.source = crate::source::of(request.extensions());
    tracing::Span::current().record("account", caller.account_id.as_str());
    // The API's limits: the account's bucket, and the token's when one was used (by a
    // digest: the token itself is never kept).
    let token = tokens::looks_like_api_token(credential.expose())
        .then(|| hex::encode(sha2::Sha256::digest(credential.expose().as_bytes())));
    let decision = atende_core::limits::admit(&ctx.deps, &caller.account_id, token.as_deref()).await?;
    if !decision.allowed {
        return Ok(refused(decision));
    }
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    rate_headers(response.headers_mut(), &decision);
    Ok(response)
}

/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the bucket
/// is full again), as the IETF draft on rate limit headers names them.
fn rate_headers(headers: &mut axum::http::HeaderMap, d: &Decision) {
    headers.insert("ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(whole_seconds(d.reset)));
}

/// The 429: the error (with `Retry-After`) and the limit's headers.
fn refused(d: Decision) -> Response {
    let error = ApiError {
        retry_after: Some(d.retry_after),
        ..ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests for this account or API token; wait for Retry-After seconds",
        )
    };
    let mut response = error.into_response();
    rate_headers(response.headers_mut(), &d);
    response
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
