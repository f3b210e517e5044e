//! The per-process cache of configuration that changes rarely: channels and their pointers
//! (phone-number id, channel id), keep-alive settings, business hours. The hot paths
//! (applying an inbound message, delivering an outbound one) read them through it.
//!
//! The rule: a read is at most [`CONFIG_TTL`] old on the injected clock, so a change made
//! by another process (another Lambda instance) takes effect within `CONFIG_TTL`; a change
//! made through this process drops its entry at once. Writers read fresh (their
//! conditional writes need the current version).

use crate::ports::{Clock, Item, Key, Table, TableError};
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How stale a cached configuration read may be.
pub const CONFIG_TTL: Duration = Duration::seconds(5);
/// Entries kept before the cache starts afresh (configuration is small; this bounds memory).
const MAX_ENTRIES: usize = 50_000;

/// Key → (when it was read, what was there).
type Entries = HashMap<Key, (DateTime<Utc>, Option<Item>)>;

#[derive(Default)]
pub struct ConfigCache {
    entries: Mutex<Entries>,
    /// Bumped by every [`ConfigCache::forget`]: a read that started before a forget does
    /// not store what it read (it may predate the write).
    generation: AtomicU64,
}

impl ConfigCache {
    /// The item at `key`, from the cache when read within [`CONFIG_TTL`], else from `table`.
    pub async fn get(
        &self,
        table: &dyn Table,
        clock: &dyn Clock,
        key: &Key,
    ) -> Result<Option<Item>, TableError> {
        let now = clock.now();
        if let Some((read_at, item)) = self.lock().get(key)
            && now < *read_at + CONFIG_TTL
        {
            return Ok(item.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let item = table.get(key).await?;
        let mut entries = self.lock();
        if self.generation.load(Ordering::Acquire) == generation {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key.clone(), (now, item.clone()));
        }
        Ok(item)
    }

    /// This process changed the item at `key`: read it fresh next time.
    pub fn forget(&self, key: &Key) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
