//! Authentication at the HTTP edge: login sessions are HS256 JWTs, integrators use API
//! tokens. The middleware turns either into a [`Caller`] on the request; handlers take the
//! [`Authenticated`] extractor and pass the caller to the domain, which scopes every key by
//! the caller's account. No handler ever reads an account id from the request.

use crate::context::AppContext;
use crate::http_error::ApiError;
use atende_core::accounts::{Caller, User, login, tokens};
use atende_core::ports::Clock;
use atende_core::secret::Secret;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user.
    sub: String,
    /// The user's account.
    acc: String,
    iat: i64,
    exp: i64,
}

pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
    clock: Arc<dyn Clock>,
}

impl Auth {
    pub fn new(secret: &[u8], ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
            clock,
        }
    }

    /// A session token for `user`, and when it expires.
    pub fn issue(&self, user: &User) -> Result<(String, DateTime<Utc>), ApiError> {
        let now = self.clock.now();
        let expires = now + chrono::Duration::from_std(self.ttl).unwrap_or_default();
        let claims = Claims {
            sub: user.id.clone(),
            acc: user.account_id.clone(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(&e))?;
        Ok((token, expires))
    }

    /// (account, user) of a valid, unexpired session token (expiry on the injected clock).
    fn verify(&self, token: &str) -> Option<(String, String)> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "sub"].into_iter().map(String::from).collect();
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        (data.claims.exp > self.clock.now().timestamp()).then_some((data.claims.acc, data.claims.sub))
    }
}

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
