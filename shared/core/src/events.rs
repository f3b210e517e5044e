//! Domain events: what happened, for the features that react to it.
//!
//! A use case records events and publishes them through [`crate::deps::Reactions`]; the
//! features subscribe (see [`crate::features`]), so adding a reaction never touches the
//! use case. Events carry ids and facts, not records: a reaction reads what it needs.
//!
//! Delivery is at least once and reactions are idempotent, which together make each
//! reaction happen once in effect. Where a crash between a state change and its reactions
//! must not lose them, the event is written in the state change's own transaction (an
//! outbox on an item the change writes anyway) and published again when the triggering job
//! is redelivered: an inbound message's events ride on its idempotency marker (see
//! `conversations::inbound`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    /// A customer's message was stored in a session.
    MessageReceived {
        account_id: String,
        channel_id: String,
        contact_id: String,
        session_id: String,
        message_id: String,
        /// The message opened a new session (not an open or reopened one).
        new_session: bool,
        /// When it was applied (the keep-alive count and business hours run from here).
        at: DateTime<Utc>,
    },
    /// An agent took a pending session.
    SessionAssumed {
        account_id: String,
        session_id: String,
        channel_id: String,
        contact_id: String,
        /// The contact's last message, which read receipts point at.
        last_inbound_provider_id: Option<String>,
    },
}

impl DomainEvent {
    /// The event's kind, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            DomainEvent::MessageReceived { .. } => "message_received",
            DomainEvent::SessionAssumed { .. } => "session_assumed",
        }
    }
}
