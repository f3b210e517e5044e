//! The queues' job types: what one function asks another to do. They sit below every
//! feature, so a feature that schedules a job never imports the feature that runs it; the
//! function that consumes a queue owns its dispatch (`functions/<name>/src/lib.rs`).

use crate::deps::Deps;
use crate::error::ServiceResult;
use crate::ports::OutgoingMessage;
use crate::queues;
use serde::{Deserialize, Serialize};

/// The `outbound` queue's job (the `send` function).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboundJob {
    /// Deliver a stored message.
    Deliver { account_id: String, message_id: String },
    /// Tell the contact their message was read (sent when an agent assumes).
    ReadReceipt { account_id: String, channel_id: String, provider_id: String },
}

/// The `routing` queue's jobs (the `transfer` function).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoutingJob {
    /// A new receptive session: wallet or distribution.
    NewSession { account_id: String, session_id: String },
    /// The designated member did not assume in time (stale unless `seq` still matches).
    Overflow { account_id: String, session_id: String, seq: u32 },
    /// Keep-alive: stale unless the contact's last message is still `last_inbound_ms`.
    KeepAlive { account_id: String, session_id: String, last_inbound_ms: i64, closing: bool },
    /// A scheduled message is due (stale unless its due time is still `due_ms`).
    Scheduled { account_id: String, id: String, due_ms: i64 },
    /// Apply (or resume) a contact import.
    ContactImport { account_id: String, import_id: String },
    /// Erase a contact (privacy); idempotent step by step.
    EraseContact { account_id: String, contact_id: String },
}

/// Puts a job on the `routing` queue.
pub async fn enqueue_routing(deps: &Deps, job: &RoutingJob) -> ServiceResult<()> {
    let body = serde_json::to_string(job)?;
    deps.queue.send(queues::ROUTING, OutgoingMessage::new(body)).await?;
    Ok(())
}
