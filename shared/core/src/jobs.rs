//! The queues' job types: what one function asks another to do. They sit below every
//! feature, so a feature that schedules a job never imports the feature that runs it; the
//! function that consumes a queue owns its dispatch (`functions/<name>/src/lib.rs`).

use crate::deps::Deps;
use crate::error::ServiceResult;
use crate::ports::OutgoingMessage;
use crate::queues;
use serde::{Deserialize, Serialize};

/// Puts `job` on `queue` after `delay` (≤ 15 minutes: SQS's longest; longer waits go
/// through the timers).
async fn send_after<J: Serialize>(
    deps: &Deps,
    queue: &str,
    job: &J,
    delay: std::time::Duration,
) -> ServiceResult<()> {
    let body = serde_json::to_string(job)?;
    deps.queue.send(queue, OutgoingMessage::new(body).delay(delay)).await?;
    Ok(())
}

/// The `outbound` queue's job (the `send` function).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboundJob {
    /// Deliver a stored message.
    Deliver { account_id: String, message_id: String },
    /// Tell the contact their message was read (sent when an agent assumes).
    ReadReceipt { account_id: String, channel_id: String, provider_id: String },
    /// Deliver one bulk message (a campaign's recipient, a sequence's step): `list` and
    /// `item` name it (see `campaigns::bulk`).
    Bulk { account_id: String, list: String, item: String },
}

/// The `campaigns` queue's jobs (the `campaigns` function).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CampaignJob {
    /// A scheduled campaign's start time came.
    Start { account_id: String, campaign_id: String },
    /// One hop of a campaign's fan-out; stale unless the fan-out is at `seq`.
    Step { account_id: String, campaign_id: String, seq: u64 },
    /// The allowed sending hours opened again (stale unless still paused for them).
    Resume { account_id: String, campaign_id: String },
    /// The collecting window (5 days of replies) ended.
    Finish { account_id: String, campaign_id: String },
    /// A sequence step is due (stale unless the enrolment still waits for it).
    SequenceStep {
        account_id: String,
        sequence_id: String,
        contact_id: String,
        epoch: u32,
        step: u32,
        due_ms: i64,
    },
    /// Enrol the contacts carrying a tag, a page at a time.
    EnrolTag { account_id: String, sequence_id: String, tag_id: String, cursor: Option<String> },
    /// Enrol one contact (asked by a flow); a contact already enrolled stays as it is.
    EnrolContact { account_id: String, sequence_id: String, contact_id: String },
    /// End one contact's enrolment (asked by a flow).
    Unenrol { account_id: String, sequence_id: String, contact_id: String },
}

/// Puts a job on the `campaigns` queue, after `delay` (≤ 15 minutes).
pub async fn enqueue_campaign(
    deps: &Deps,
    job: &CampaignJob,
    delay: std::time::Duration,
) -> ServiceResult<()> {
    send_after(deps, queues::CAMPAIGNS, job, delay).await
}

/// The `payments` queue's jobs (the `payments` function).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PaymentJob {
    /// Create a requested payment's charge at the provider and send the contact its link.
    Create { account_id: String, payment_id: String },
    /// Apply an event the provider delivered (`webhook` enqueues it once it is verified).
    Event { account_id: String, event: crate::ports::PaymentEvent },
}

/// Puts a job on the `payments` queue, after `delay` (≤ 15 minutes).
pub async fn enqueue_payment(deps: &Deps, job: &PaymentJob, delay: std::time::Duration) -> ServiceResult<()> {
    send_after(deps, queues::PAYMENTS, job, delay).await
}

/// The `transcription` queue's job (the `transcription` function): transcribe a received
/// audio or voice message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptionJob {
    pub account_id: String,
    pub message_id: String,
}

/// Puts a transcription job on its queue, after `delay` (≤ 15 minutes).
pub async fn enqueue_transcription(
    deps: &Deps,
    job: &TranscriptionJob,
    delay: std::time::Duration,
) -> ServiceResult<()> {
    send_after(deps, queues::TRANSCRIPTION, job, delay).await
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
    /// Events a change committed to and nobody published (see `crate::outbox`).
    Publish { events: Vec<crate::events::DomainEvent> },
    /// Write a report's CSV (see `crate::reports::exports`).
    ReportExport { account_id: String, export_id: String },
}

/// Puts a job on the `routing` queue.
pub async fn enqueue_routing(deps: &Deps, job: &RoutingJob) -> ServiceResult<()> {
    let body = serde_json::to_string(job)?;
    deps.queue.send(queues::ROUTING, OutgoingMessage::new(body)).await?;
    Ok(())
}

/// The `flows` queue's job (the `flows` function): one input for a session's flow run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowJob {
    pub account_id: String,
    pub session_id: String,
    pub run_id: String,
    pub input: FlowInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FlowInput {
    /// The run begins.
    Start,
    /// A customer's message (stored) reached the run.
    Message { message_id: String },
    /// A timer the run armed (a question's timeout or join window, a wait) fired; stale
    /// unless the run still waits with `seq`.
    Timer { seq: u32 },
    /// A customer's answer taken before any session (a completion flow's question): not
    /// stored as a message, so it travels with the job.
    Answer { provider_id: String, text: String, reply_id: Option<String> },
}

impl FlowInput {
    /// The input's id: a run applies each once.
    pub fn id(&self) -> String {
        match self {
            FlowInput::Start => "start".to_owned(),
            FlowInput::Message { message_id } => format!("m:{message_id}"),
            FlowInput::Timer { seq } => format!("t:{seq}"),
            FlowInput::Answer { provider_id, .. } => format!("p:{provider_id}"),
        }
    }
}

impl FlowJob {
    /// The id of the job's input (see [`FlowInput::id`]).
    pub fn input_id(&self) -> String {
        self.input.id()
    }
}

/// Puts a flow job on the `flows` queue (FIFO by session, deduplicated by its input).
pub async fn enqueue_flow(deps: &Deps, job: &FlowJob) -> ServiceResult<()> {
    let body = serde_json::to_string(job)?;
    let message = OutgoingMessage::new(body).group(job.session_id.clone()).dedup(format!(
        "flow:{}:{}",
        job.run_id,
        job.input_id()
    ));
    deps.queue.send(queues::FLOWS, message).await?;
    Ok(())
}

/// The `hooks` queue's jobs (the `webhooks` function): outbound webhooks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WebhookJob {
    /// An event happened: store it once and start its delivery to every endpoint taking it.
    Publish { account_id: String, event: crate::webhooks::model::OutEvent },
    /// One attempt at a delivery; stale unless the delivery has made `attempts` attempts.
    Deliver { account_id: String, endpoint_id: String, event_id: String, attempts: u32 },
}

/// Puts a job on the `hooks` queue, after `delay` (≤ 15 minutes).
pub async fn enqueue_webhook(deps: &Deps, job: &WebhookJob, delay: std::time::Duration) -> ServiceResult<()> {
    send_after(deps, queues::HOOKS, job, delay).await
}
