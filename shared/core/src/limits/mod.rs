//! Request limits (PRODUCT.md §13): every `/v1` request is taken from its account's token
//! bucket and, when it came with an API token, from that token's too; a request finding
//! either empty is refused (429) until a token grows back. The limits are deployment
//! settings; the buckets live behind [`crate::ports::RateLimiter`] (memory locally, the
//! table in AWS, shared by every instance).

pub mod bucket;

pub use bucket::{Bucket, Decision, Limit};

use crate::deps::Deps;
use crate::error::ServiceResult;

/// The API's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ApiLimits {
    /// Every request of an account (its people and its integrations together).
    pub account: Limit,
    /// Every request made with one API token, in the spirit of Helena's public API:
    /// 1,000 requests per 5 minutes, with bursts.
    pub token: Limit,
}

/// The defaults: an account may make 600 requests at once and 3,000 a minute (its whole
/// team's screens and integrations); one API token 200 at once and 200 a minute (Helena's
/// 1,000 per 5 minutes).
pub const ACCOUNT_BURST: u32 = 600;
pub const ACCOUNT_PER_MINUTE: u32 = 3_000;
pub const TOKEN_BURST: u32 = 200;
pub const TOKEN_PER_MINUTE: u32 = 200;

impl ApiLimits {
    /// No limit at all (no bucket is read or written): for tests and benchmarks that
    /// measure something else on a clock that does not move (a bucket would never refill).
    pub fn none() -> Self {
        Self { account: Limit::UNLIMITED, token: Limit::UNLIMITED }
    }
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            account: Limit::per_minute(ACCOUNT_BURST, ACCOUNT_PER_MINUTE),
            token: Limit::per_minute(TOKEN_BURST, TOKEN_PER_MINUTE),
        }
    }
}

/// Takes one request of `account` (and of the API token `token`, a digest of it, when
/// one was used) from its buckets: refused when either is empty; the figures of the
/// tighter one otherwise. The token's bucket is taken from first, so an integration that
/// spent its own does not drain its account's (its refused requests take nothing there).
pub async fn admit(deps: &Deps, account: &str, token: Option<&str>) -> ServiceResult<Decision> {
    let now = deps.clock.now();
    let limits = deps.limits;
    if limits == ApiLimits::none() {
        return Ok(bucket::take(None, Limit::UNLIMITED, now).0);
    }
    let by_token = match token {
        Some(token) => Some(deps.limiter.take(&format!("token:{token}"), limits.token, now).await?),
        None => None,
    };
    if let Some(refused) = by_token.filter(|d| !d.allowed) {
        return Ok(refused);
    }
    let by_account = deps.limiter.take(&format!("account:{account}"), limits.account, now).await?;
    Ok(match by_token {
        Some(t) if by_account.allowed && t.remaining < by_account.remaining => t,
        _ => by_account,
    })
}
