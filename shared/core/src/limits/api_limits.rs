//! The API's limits as a deployment sets them (`atende-runtime`'s settings read them).

use super::bucket::Limit;

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
