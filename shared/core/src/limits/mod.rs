//! Request limits (PRODUCT.md §13): every `/v1` request is taken from its account's token
//! bucket and, when it came with an API token, from that token's too; a request finding
//! either empty is refused (429) until a token grows back. The limits are deployment
//! settings; the buckets live behind [`crate::ports::RateLimiter`] (memory locally, the
//! table in AWS, shared by every instance).

pub mod api_limits;
pub mod bucket;

pub use api_limits::{ACCOUNT_BURST, ACCOUNT_PER_MINUTE, ApiLimits, TOKEN_BURST, TOKEN_PER_MINUTE};
pub use bucket::{Bucket, Decision, Limit};

use crate::deps::Deps;
use crate::error::ServiceResult;

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
