//! Login sessions: HS256 JWTs naming the user and their account, checked on the injected
//! clock. The middleware in [`crate::auth`] verifies them on every request.

use crate::http_error::ApiError;
use atende_core::accounts::User;
use atende_core::ports::Clock;
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
    pub(crate) fn verify(&self, token: &str) -> Option<(String, String)> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "sub"].into_iter().map(String::from).collect();
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        (data.claims.exp > self.clock.now().timestamp()).then_some((data.claims.acc, data.claims.sub))
    }
}
