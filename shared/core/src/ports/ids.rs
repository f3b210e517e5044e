//! Identifiers: ULIDs, stamped with the injected clock so they sort by creation time.

use super::clock::Clock;
use std::sync::{Arc, Mutex};
use ulid::Generator;

pub trait Ids: Send + Sync {
    /// A new, unique, time-ordered identifier (26 characters, Crockford base32).
    fn new_id(&self) -> String;
}

pub struct UlidIds {
    clock: Arc<dyn Clock>,
    generator: Mutex<Generator>,
}

impl UlidIds {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock, generator: Mutex::new(Generator::new()) }
    }
}

impl Ids for UlidIds {
    fn new_id(&self) -> String {
        let at: std::time::SystemTime = self.clock.now().into();
        let mut generator = self.generator.lock().unwrap_or_else(|p| p.into_inner());
        // The monotonic generator only fails when 2^80 ids are asked for within one
        // millisecond; a fresh random ULID for that instant is still unique in practice.
        match generator.generate_from_datetime(at) {
            Ok(id) => id.to_string(),
            Err(_) => ulid::Ulid::from_datetime(at).to_string(),
        }
    }
}
