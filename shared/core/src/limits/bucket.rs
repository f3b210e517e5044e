//! The token bucket: a bucket holds up to `burst` tokens, refilled at `per_second`; each
//! request takes one, and a request finding less than one is refused until one has grown
//! back. Pure arithmetic on a stored state, so the same rule runs on any store (memory
//! locally, the table in AWS).

use chrono::{DateTime, Utc};
use std::time::Duration;

/// One limit: how many requests at once, and how many a second after that.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub burst: u32,
    pub per_second: f64,
}

impl Limit {
    /// No limit (see `ApiLimits::none`).
    pub const UNLIMITED: Limit = Limit { burst: u32::MAX, per_second: f64::MAX };

    /// `burst` at once, then `per_minute` a minute.
    pub fn per_minute(burst: u32, per_minute: u32) -> Self {
        Self { burst: burst.max(1), per_second: f64::from(per_minute.max(1)) / 60.0 }
    }
}

/// A bucket as stored: its tokens at the instant it was last taken from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub tokens: f64,
    pub at: DateTime<Utc>,
}

/// What one take decided, and what the answer's `RateLimit-*` headers say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub allowed: bool,
    /// The bucket's size (its burst).
    pub limit: u32,
    /// Whole tokens left after this take.
    pub remaining: u32,
    /// Until the bucket is full again.
    pub reset: Duration,
    /// Refused: until one token has grown back.
    pub retry_after: Duration,
}

/// Takes one token from `bucket` (a new bucket is full) at `now`: the decision and the
/// bucket to store (unchanged but for the refill when refused).
pub fn take(bucket: Option<Bucket>, limit: Limit, now: DateTime<Utc>) -> (Decision, Bucket) {
    let burst = f64::from(limit.burst);
    let tokens = match bucket {
        None => burst,
        Some(b) => {
            // A clock that went back refills nothing (and takes nothing away).
            let elapsed = (now - b.at).num_microseconds().unwrap_or(i64::MAX).max(0) as f64 / 1e6;
            (b.tokens + elapsed * limit.per_second).min(burst)
        }
    };
    let seconds = |tokens: f64| Duration::from_secs_f64((tokens / limit.per_second).max(0.0));
    if tokens >= 1.0 {
        let left = tokens - 1.0;
        let decision = Decision {
            allowed: true,
            limit: limit.burst,
            remaining: left.floor() as u32,
            reset: seconds(burst - left),
            retry_after: Duration::ZERO,
        };
        (decision, Bucket { tokens: left, at: now })
    } else {
        let decision = Decision {
            allowed: false,
            limit: limit.burst,
            remaining: 0,
            reset: seconds(burst - tokens),
            retry_after: seconds(1.0 - tokens),
        };
        (decision, Bucket { tokens, at: now })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_000 + ms).unwrap()
    }

    #[test]
    fn a_burst_passes_then_requests_wait_for_the_refill() {
        let limit = Limit { burst: 3, per_second: 2.0 };
        let mut bucket = None;
        for left in [2, 1, 0] {
            let (d, b) = take(bucket, limit, at(0));
            assert!(d.allowed);
            assert_eq!(d.remaining, left);
            bucket = Some(b);
        }
        let (d, b) = take(bucket, limit, at(0));
        assert!(!d.allowed);
        assert_eq!(d.retry_after, Duration::from_millis(500), "one token grows in half a second");
        assert_eq!(d.reset, Duration::from_millis(1500));
        let (d, _) = take(Some(b), limit, at(499));
        assert!(!d.allowed);
        let (d, b) = take(Some(b), limit, at(500));
        assert!(d.allowed, "refused requests take nothing");
        let (d, _) = take(Some(b), limit, at(60_000));
        assert!(d.allowed && d.remaining == 2, "the bucket never holds more than the burst");
    }

    #[test]
    fn a_clock_that_goes_back_neither_refills_nor_drains() {
        let limit = Limit::per_minute(2, 60);
        let (_, b) = take(None, limit, at(10_000));
        let (d, b2) = take(Some(b), limit, at(0));
        assert!(d.allowed && d.remaining == 0);
        assert_eq!(b2.tokens, 0.0);
    }
}
