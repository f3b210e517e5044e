//! What outbound webhooks store: endpoints, events and deliveries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An integrator's endpoint. Its secrets are sealed in the item, never in this record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Endpoint {
    pub id: String,
    pub account_id: String,
    pub url: String,
    pub description: String,
    /// The event types it takes; empty: every type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why the system disabled it (`410 Gone`, failing for five days), when it did.
    pub disabled_reason: Option<String>,
    /// Since when every delivery fails (cleared by a success).
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs too.
    pub previous_secret_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

impl Endpoint {
    pub fn takes(&self, event_type: &str) -> bool {
        self.enabled && (self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type))
    }
}

/// An event as integrators receive it: `{type, timestamp, data}` in the body, its id in
/// `webhook-id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutEvent {
    /// Derived from what happened (the same for a redelivered domain event).
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub timestamp: DateTime<Utc>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl OutEvent {
    /// The body, exactly as signed and sent.
    pub fn body(&self) -> String {
        serde_json::json!({"type": self.event_type, "timestamp": self.timestamp, "data": self.data})
            .to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every retry failed, or the endpoint answered 410 (replay sends it again).
    Failed,
}

/// One attempt, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The endpoint's status; none when no answer came.
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// The first bytes of the answer, or why no answer came.
    pub excerpt: String,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    /// Every attempt ever made (the last [`MAX_LOGGED`] kept in `log`).
    pub attempts_made: u32,
    /// Attempts since it was (re)started: what the retry schedule counts.
    pub series: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// An attempt in flight until then (another worker leaves it alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub claimed_until: Option<DateTime<Utc>>,
    pub log: Vec<Attempt>,
    pub created_at: DateTime<Utc>,
    pub version: u64,
}

/// Attempts kept in a delivery's log.
pub const MAX_LOGGED: usize = 20;
