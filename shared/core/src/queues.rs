//! The product's queues (DESIGN.md §1). The SAM template declares the same ones.

use crate::ports::QueueSpec;
use std::time::Duration;

pub const INBOUND: &str = "inbound";
pub const OUTBOUND: &str = "outbound";
/// Campaign and sequence messages: the same delivery as `outbound`, on a queue of their own
/// so an agent's reply never waits behind a campaign's backlog.
pub const BULK: &str = "bulk";
pub const ROUTING: &str = "routing";
pub const CAMPAIGNS: &str = "campaigns";
pub const TRANSCRIPTION: &str = "transcription";
pub const PAYMENTS: &str = "payments";
/// Outbound webhooks: an event's fan-out to the account's endpoints, each delivery attempt.
pub const HOOKS: &str = "hooks";
/// Flow runs' turns: FIFO, one group per session, so a run takes its inputs in order.
pub const FLOWS: &str = "flows";

/// Receives before a message of a standard queue moves to its dead-letter queue.
pub const MAX_RECEIVES: u32 = 5;
/// The same on FIFO queues: SQS's maximum. When a message of a group is retried, the later
/// messages of that group in the same batch are handed back unprocessed (to keep the
/// order) and each such redelivery counts as a receive; with a small limit they would
/// reach the dead-letter queue without ever being tried. Real retries are bounded by the
/// jobs themselves (a message is sent at most `delivery::MAX_ATTEMPTS` times) and poison
/// messages go to the dead-letter queue at once (see `atende-runtime`'s batch runner).
pub const FIFO_MAX_RECEIVES: u32 = 1000;

fn spec(name: &str, fifo: bool, visibility_secs: u64) -> QueueSpec {
    QueueSpec {
        name: name.to_owned(),
        fifo,
        max_receives: if fifo { FIFO_MAX_RECEIVES } else { MAX_RECEIVES },
        visibility_timeout: Duration::from_secs(visibility_secs),
    }
}

/// The dead-letter queue of a queue.
pub fn dlq_of(queue: &str) -> String {
    format!("{queue}-dlq")
}

/// Every queue, with the same FIFO flag, receive limit and visibility timeout as in AWS.
pub fn all() -> Vec<QueueSpec> {
    vec![
        spec(INBOUND, true, 60),
        spec(OUTBOUND, true, 60),
        spec(BULK, true, 60),
        spec(ROUTING, false, 60),
        spec(CAMPAIGNS, false, 300),
        spec(TRANSCRIPTION, false, 300),
        spec(PAYMENTS, false, 60),
        spec(FLOWS, true, 120),
        // A batch of attempts, each up to the 15 s timeout.
        spec(HOOKS, false, 120),
    ]
}
