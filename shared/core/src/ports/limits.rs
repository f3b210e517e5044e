//! Where the request buckets live: in memory on one machine, in the table when several
//! instances must share them.

use crate::limits::bucket::{Decision, Limit};
use crate::ports::TableError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Takes one request from the bucket `key` under `limit` (a new bucket is full), by the
    /// rule of [`crate::limits::bucket::take`], atomically with respect to other takers.
    async fn take(&self, key: &str, limit: Limit, now: DateTime<Utc>) -> Result<Decision, TableError>;
}
