//! The ports a use case runs with, bundled. Built by `atende-runtime` for AWS or embedded.

use crate::ports::{Blob, Clock, Ids, Messaging, Queue, Table};
use std::sync::Arc;

#[derive(Clone)]
pub struct Deps {
    pub table: Arc<dyn Table>,
    pub queue: Arc<dyn Queue>,
    pub blob: Arc<dyn Blob>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn Ids>,
    pub messaging: Arc<dyn Messaging>,
}
