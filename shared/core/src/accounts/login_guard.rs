//! Login throttling (PRODUCT.md §13): failed logins are counted per e-mail and per source
//! address; past a few, each next attempt must wait twice as long as the one before, and
//! after many the e-mail (or address) is locked for a while. An attempt that comes too
//! early is refused before the password is looked at, with the wait; the answer is the
//! same for e-mails of no user, so throttling tells nothing about who exists. A success
//! clears the e-mail's count (not the address's: one valid account must not reset an
//! address guessing at others). Counts fade a day after the last failure.
//!
//! Several attempts racing at the same instant may each pass the check before any of
//! them is counted; each round of such a burst still waits the doubled delay, so the
//! guessing rate stays exponentially bounded.

use crate::deps::Deps;
use crate::error::{ServiceError, ServiceResult};
use crate::keys;
use crate::ports::table::{TTL, VERSION, attr};
use crate::ports::{Condition, Item, TableError};
use chrono::{DateTime, Duration, Utc};
use sha2::Digest;
use std::net::IpAddr;

/// When attempts slow down and lock, for one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Failures allowed at full speed.
    pub free: u32,
    /// Failures after which the key is locked for [`Rule::lock`].
    pub lock_after: u32,
    pub lock: Duration,
}

/// An e-mail: 5 failures at full speed, then 1 s, 2 s, 4 s… (at most [`MAX_DELAY`]); the
/// 20th locks it for 15 minutes.
pub const BY_EMAIL: Rule = Rule { free: 5, lock_after: 20, lock: Duration::minutes(15) };
/// A source address (an office behind one address has many people): 20 failures at full
/// speed; the 100th locks it for 15 minutes.
pub const BY_SOURCE: Rule = Rule { free: 20, lock_after: 100, lock: Duration::minutes(15) };
/// The longest wait before the lock.
pub const MAX_DELAY: Duration = Duration::minutes(5);
/// A count is forgotten this long after its last failure.
pub const FADES_AFTER: Duration = Duration::hours(24);

impl Rule {
    /// When the next attempt may come after `failures` failures, the last at `last`: none
    /// while below the free ones.
    pub fn next_attempt(&self, failures: u32, last: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if failures >= self.lock_after {
            return Some(last + self.lock);
        }
        let over = failures.checked_sub(self.free)?;
        let delay = Duration::seconds(1i64 << over.min(20)).min(MAX_DELAY);
        Some(last + delay)
    }

    /// This failure (the `failures`th) is the one that locks.
    pub fn locks_at(&self, failures: u32) -> bool {
        failures == self.lock_after
    }
}

/// The failures of one key, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
    version: i64,
}

/// The guards of one attempt: its e-mail's, and its source address's when known.
pub struct Guards {
    keys: Vec<(crate::ports::Key, Rule)>,
}

/// The outcome of a failed attempt for the caller: whether it locked the e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failed {
    pub email_locked: bool,
}

fn digest(value: &str) -> String {
    hex::encode(sha2::Sha256::digest(value.as_bytes()))
}

impl Guards {
    /// `email` as typed (trimmed and lower-cased here, so variants count together).
    pub fn of(email: &str, source: Option<IpAddr>) -> Self {
        let mut keys = vec![(keys::login_failures("email", &digest(&email.trim().to_lowercase())), BY_EMAIL)];
        if let Some(source) = source {
            keys.push((keys::login_failures("source", &digest(&source.to_string())), BY_SOURCE));
        }
        Self { keys }
    }

    /// Refuses an attempt that comes before its wait is over (the longest of its keys).
    pub async fn check(&self, deps: &Deps) -> ServiceResult<()> {
        let now = deps.clock.now();
        let mut until: Option<DateTime<Utc>> = None;
        for (key, rule) in &self.keys {
            if let Some(f) = read(deps, key, now).await?
                && let Some(next) = rule.next_attempt(f.count, f.last)
                && next > now
            {
                until = Some(until.map_or(next, |u| u.max(next)));
            }
        }
        match until {
            None => Ok(()),
            Some(until) => Err(ServiceError::TooManyAttempts {
                message: "too many failed logins; wait before trying again".into(),
                retry_after: (until - now).to_std().unwrap_or_default(),
            }),
        }
    }

    /// Counts a failed attempt on every key.
    pub async fn failed(&self, deps: &Deps) -> ServiceResult<Failed> {
        let now = deps.clock.now();
        let mut email_locked = false;
        for (i, (key, rule)) in self.keys.iter().enumerate() {
            let count = count_failure(deps, key, now).await?;
            if i == 0 && rule.locks_at(count) {
                email_locked = true;
            }
        }
        Ok(Failed { email_locked })
    }

    /// A success clears the e-mail's count.
    pub async fn succeeded(&self, deps: &Deps) -> ServiceResult<()> {
        if let Some((key, _)) = self.keys.first() {
            deps.table.delete(key, None).await?;
        }
        Ok(())
    }
}

async fn read(deps: &Deps, key: &crate::ports::Key, now: DateTime<Utc>) -> ServiceResult<Option<Failures>> {
    let Some(item) = deps.table.get(key).await? else { return Ok(None) };
    let version = attr::get_n(&item, VERSION).unwrap_or(0);
    let count = attr::get_n(&item, "failures").and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    let last = attr::get_n(&item, "last_ms").and_then(DateTime::from_timestamp_millis).unwrap_or(now);
    if now - last > FADES_AFTER {
        // Faded (the TTL may not have removed it yet): counts as none, keeps its version.
        return Ok(Some(Failures { count: 0, last, version }));
    }
    Ok(Some(Failures { count, last, version }))
}

/// Adds one failure (a faded count starts again), by a write conditional on the version
/// read, retried when another attempt wrote meanwhile. The new count.
async fn count_failure(deps: &Deps, key: &crate::ports::Key, now: DateTime<Utc>) -> ServiceResult<u32> {
    for _ in 0..16 {
        let found = read(deps, key, now).await?;
        let count = found.map_or(0, |f| f.count) + 1;
        let version = found.map_or(0, |f| f.version);
        let item = Item::from([
            ("pk".to_owned(), attr::s(&key.pk)),
            ("sk".to_owned(), attr::s(&key.sk)),
            ("failures".to_owned(), attr::n(count)),
            ("last_ms".to_owned(), attr::n(now.timestamp_millis())),
            (VERSION.to_owned(), attr::n(version + 1)),
            (TTL.to_owned(), attr::n((now + FADES_AFTER).timestamp())),
        ]);
        let condition = if found.is_some() {
            Condition::version_is(version as u64)
        } else {
            Condition::absent_at(now.timestamp())
        };
        match deps.table.put(item, Some(condition)).await {
            Ok(()) => return Ok(count),
            Err(TableError::ConditionFailed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::conflict("too many logins at once for this e-mail; try again"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn the_free_failures_wait_nothing_then_each_waits_twice_the_last_then_the_lock() {
        let r = BY_EMAIL;
        assert_eq!(r.next_attempt(4, at(0)), None);
        assert_eq!(r.next_attempt(5, at(0)), Some(at(1)));
        assert_eq!(r.next_attempt(6, at(0)), Some(at(2)));
        assert_eq!(r.next_attempt(8, at(0)), Some(at(8)));
        assert_eq!(r.next_attempt(19, at(0)), Some(at(300)), "capped at five minutes");
        assert_eq!(r.next_attempt(20, at(0)), Some(at(900)), "locked for fifteen minutes");
        assert!(r.locks_at(20) && !r.locks_at(21));
    }
}
