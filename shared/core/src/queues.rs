//! The product's queues (DESIGN.md §1). The SAM template declares the same ones.

use crate::ports::QueueSpec;
use std::time::Duration;

pub const INBOUND: &str = "inbound";
pub const OUTBOUND: &str = "outbound";
pub const ROUTING: &str = "routing";
pub const CAMPAIGNS: &str = "campaigns";
pub const TRANSCRIPTION: &str = "transcription";
pub const PAYMENTS: &str = "payments";

/// Receives before a message moves to its dead-letter queue.
pub const MAX_RECEIVES: u32 = 5;

fn spec(name: &str, fifo: bool, visibility_secs: u64) -> QueueSpec {
    QueueSpec {
        name: name.to_owned(),
        fifo,
        max_receives: MAX_RECEIVES,
        visibility_timeout: Duration::from_secs(visibility_secs),
    }
}

/// Every queue, with the same FIFO flag, receive limit and visibility timeout as in AWS.
pub fn all() -> Vec<QueueSpec> {
    vec![
        spec(INBOUND, true, 60),
        spec(OUTBOUND, true, 60),
        spec(ROUTING, false, 60),
        spec(CAMPAIGNS, false, 300),
        spec(TRANSCRIPTION, false, 300),
        spec(PAYMENTS, false, 60),
    ]
}
