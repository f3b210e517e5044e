//! The queue port, shaped like SQS: standard and FIFO queues, message groups,
//! deduplication ids (5 minutes), per-message delays (standard queues only, ≤ 15 minutes,
//! as SQS), visibility timeouts and a dead-letter queue after N receives.

use async_trait::async_trait;
use std::time::Duration;

/// SQS's deduplication window.
pub const DEDUPLICATION_WINDOW: Duration = Duration::from_secs(5 * 60);
/// SQS's longest per-message delay.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// SQS's largest batch per request; `send_batch` takes any number and splits.
pub const SQS_BATCH: usize = 10;
/// SQS's largest message body.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How a queue behaves (mirrors the SAM template's queue definitions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    /// Logical name, e.g. `inbound`.
    pub name: String,
    pub fifo: bool,
    /// Receives after which a message moves to the dead-letter queue `<name>-dlq`.
    pub max_receives: u32,
    pub visibility_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingMessage {
    pub body: String,
    /// FIFO message group (required on FIFO queues).
    pub group: Option<String>,
    /// Deduplication id (FIFO queues; defaults to a hash of the body).
    pub dedup_id: Option<String>,
    /// Delay before the message can be received (standard queues only).
    pub delay: Duration,
}

impl OutgoingMessage {
    pub fn new(body: impl Into<String>) -> Self {
        Self { body: body.into(), ..Self::default() }
    }

    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    pub fn dedup(mut self, id: impl Into<String>) -> Self {
        self.dedup_id = Some(id.into());
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub id: String,
    /// Handle to ack or release this delivery.
    pub receipt: String,
    pub body: String,
    pub group: Option<String>,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("no queue named {0}")]
    UnknownQueue(String),
    #[error("invalid message: {0}")]
    Invalid(String),
    #[error("queue backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Checks a message against the queue's rules; both adapters call it before sending.
pub fn validate_message(spec: &QueueSpec, message: &OutgoingMessage) -> Result<(), QueueError> {
    if message.body.is_empty() || message.body.len() > MAX_BODY_BYTES {
        return Err(QueueError::Invalid("the body must be 1 byte to 256 KB".into()));
    }
    if message.delay > MAX_DELAY {
        return Err(QueueError::Invalid("a delay is at most 15 minutes".into()));
    }
    if spec.fifo {
        if message.group.as_deref().is_none_or(str::is_empty) {
            return Err(QueueError::Invalid(format!("{} is FIFO: a message group is required", spec.name)));
        }
        if !message.delay.is_zero() {
            return Err(QueueError::Invalid(format!(
                "{} is FIFO: SQS does not allow per-message delays there",
                spec.name
            )));
        }
    }
    Ok(())
}

/// The deduplication id SQS would use for a FIFO message (content-based when absent).
pub fn effective_dedup_id(message: &OutgoingMessage) -> String {
    use sha2::{Digest, Sha256};
    match &message.dedup_id {
        Some(id) => id.clone(),
        None => hex::encode(Sha256::digest(message.body.as_bytes())),
    }
}

#[async_trait]
pub trait Queue: Send + Sync {
    async fn send(&self, queue: &str, message: OutgoingMessage) -> Result<(), QueueError>;
    /// Sends any number of messages (split into SQS batches of 10); all or error.
    async fn send_batch(&self, queue: &str, messages: Vec<OutgoingMessage>) -> Result<(), QueueError>;
    /// Up to `max` (≤ 10) messages, each hidden for `visibility` unless acked.
    async fn receive(
        &self,
        queue: &str,
        max: u32,
        visibility: Duration,
    ) -> Result<Vec<ReceivedMessage>, QueueError>;
    /// Done with a delivery: the message is removed.
    async fn ack(&self, queue: &str, receipt: &str) -> Result<(), QueueError>;
    /// Make a delivery visible again after `after` (zero = now).
    async fn release(&self, queue: &str, receipt: &str, after: Duration) -> Result<(), QueueError>;
}
