//! A provider's failure that may pass (too many requests, its own 5xx, no answer): the
//! same request may succeed later, so the job that made it is retried. The payment gateway
//! and the transcriber share it; Meta's sends read it as a [`ProviderError`].

use super::messaging::ProviderError;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Outage {
    #[error("too many requests")]
    RateLimited { retry_after: Option<Duration> },
    #[error("the provider answered HTTP {0}")]
    Unavailable(u16),
    #[error("the provider did not answer in time")]
    Timeout,
    #[error("could not reach the provider: {0}")]
    Transport(String),
}

impl Outage {
    /// How long to wait before trying again: `backoff`, or the provider's `Retry-After`
    /// when it asked for longer.
    pub fn wait(&self, backoff: Duration) -> Duration {
        match self {
            Outage::RateLimited { retry_after: Some(d) } => backoff.max(*d),
            _ => backoff,
        }
    }
}

impl From<Outage> for ProviderError {
    fn from(o: Outage) -> Self {
        match o {
            Outage::RateLimited { .. } => ProviderError::Http(429),
            Outage::Unavailable(status) => ProviderError::Http(status),
            Outage::Timeout => ProviderError::Timeout,
            Outage::Transport(t) => ProviderError::Transport(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_longer_retry_after_is_waited_for_and_a_shorter_one_is_not() {
        let backoff = Duration::from_secs(15);
        let asked = |s| Outage::RateLimited { retry_after: Some(Duration::from_secs(s)) };
        assert_eq!(asked(60).wait(backoff), Duration::from_secs(60));
        assert_eq!(asked(1).wait(backoff), backoff);
        assert_eq!(Outage::Timeout.wait(backoff), backoff);
    }
}
