//! Outbound webhooks' port: one signed delivery to an integrator's endpoint. The adapter
//! holds the wire format (Standard Webhooks' headers and signature) and the guarded HTTP
//! call (no internal target, checked after DNS; no redirect; 15 s); the domain decides what
//! is sent, when, and what an answer means.

use crate::ports::HttpError;
use crate::secret::Secret;
use async_trait::async_trait;
use std::time::Duration;

/// One delivery attempt of one event to one endpoint.
#[derive(Debug, Clone)]
pub struct WebhookMessage {
    pub url: String,
    /// The event's id: the same on every attempt (the receiver deduplicates on it).
    pub id: String,
    /// When this attempt is made, in seconds since the epoch (signed with the body).
    pub timestamp: i64,
    /// The JSON body, exactly as signed.
    pub body: String,
    /// Every secret currently valid for the endpoint (two during a rotation's grace):
    /// one signature each.
    pub secrets: Vec<Secret>,
}

/// What the endpoint answered.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAnswer {
    pub status: u16,
    /// A 429's or 503's `Retry-After`, when given.
    pub retry_after: Option<Duration>,
    /// The first bytes of the answer's body, as text (for the delivery log).
    pub excerpt: String,
}

#[async_trait]
pub trait WebhookSender: Send + Sync {
    /// Sends one attempt; an error when no answer came (refused target, timeout, no
    /// connection).
    async fn send(&self, message: &WebhookMessage) -> Result<WebhookAnswer, HttpError>;

    /// Whether `url` may be saved as an endpoint: http(s), and not an internal address
    /// written as such (a name is checked at each delivery, after DNS).
    fn check(&self, url: &str) -> Result<(), HttpError>;
}
