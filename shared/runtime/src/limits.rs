//! The request buckets of the API's limits: in memory for one process (the local runtime),
//! in the table for the instances of a deployment (a read and a write conditional on the
//! bucket's version per take, retried when another instance took meanwhile). Both apply
//! `atende_core::limits::bucket::take`; neither holds a rule of its own.

use async_trait::async_trait;
use atende_core::limits::bucket::{self, Bucket, Decision, Limit};
use atende_core::ports::table::{TTL, VERSION, attr};
use atende_core::ports::{Condition, Item, RateLimiter, Table, TableError};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Buckets kept before full ones are forgotten (a full bucket is the same as none).
const MEMORY_BUCKETS: usize = 100_000;

#[derive(Default)]
pub struct MemoryLimiter {
    /// Each bucket with the limit it is taken under (account and token limits differ).
    buckets: Mutex<HashMap<String, (Bucket, Limit)>>,
}

#[async_trait]
impl RateLimiter for MemoryLimiter {
    async fn take(&self, key: &str, limit: Limit, now: DateTime<Utc>) -> Result<Decision, TableError> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (decision, after) = bucket::take(buckets.get(key).map(|(b, _)| *b), limit, now);
        if buckets.len() >= MEMORY_BUCKETS {
            // Forget the buckets that have refilled (they read back as new, full ones).
            buckets.retain(|_, (b, l)| bucket::take(Some(*b), *l, now).0.remaining + 1 < l.burst);
        }
        buckets.insert(key.to_owned(), (after, limit));
        Ok(decision)
    }
}

pub struct TableLimiter {
    table: Arc<dyn Table>,
}

impl TableLimiter {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }
}

/// Attempts at a take before the request is refused for a moment (so many instances
/// racing on one bucket that it is being emptied anyway).
const ATTEMPTS: usize = 16;

#[async_trait]
impl RateLimiter for TableLimiter {
    async fn take(&self, key: &str, limit: Limit, now: DateTime<Utc>) -> Result<Decision, TableError> {
        let k = atende_core::keys::rate_bucket(key);
        for _ in 0..ATTEMPTS {
            let found = self.table.get(&k).await?;
            let version = found.as_ref().and_then(|i| attr::get_n(i, VERSION)).unwrap_or(0);
            let stored = found.as_ref().and_then(|i| {
                let tokens = attr::get_s(i, "tokens")?.parse::<f64>().ok()?;
                let at = DateTime::from_timestamp_nanos(attr::get_n(i, "at_ns")?);
                Some(Bucket { tokens, at })
            });
            let (decision, after) = bucket::take(stored, limit, now);
            // Gone once it would be full again anyway (DynamoDB's TTL; the sweep locally).
            let expires = now
                + chrono::Duration::from_std(decision.reset).unwrap_or_default()
                + chrono::Duration::minutes(1);
            let item = Item::from([
                ("pk".to_owned(), attr::s(&k.pk)),
                ("sk".to_owned(), attr::s(&k.sk)),
                ("tokens".to_owned(), attr::s(after.tokens.to_string())),
                ("at_ns".to_owned(), attr::n(after.at.timestamp_nanos_opt().unwrap_or(i64::MAX))),
                (VERSION.to_owned(), attr::n(version + 1)),
                (TTL.to_owned(), attr::n(expires.timestamp())),
            ]);
            let condition =
                if found.is_some() { Condition::version_is(version as u64) } else { Condition::NotExists };
            match self.table.put(item, Some(condition)).await {
                Ok(()) => return Ok(decision),
                Err(TableError::ConditionFailed) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(Decision {
            allowed: false,
            limit: limit.burst,
            remaining: 0,
            reset: Duration::from_secs(1),
            retry_after: Duration::from_secs(1),
        })
    }
}
