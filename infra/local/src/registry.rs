//! The function registry: every function of the set, each declared once in its own crate
//! (`function()`). The local runtime consumes every queue function listed here, the tests
//! and the bench drain with them, and a test holds `infra/template.yaml` to this list.

use atende_runtime::function::{FunctionSpec, QueueFunction};

/// The functions fed by a queue, with their handlers.
pub fn queue_functions() -> Vec<QueueFunction> {
    vec![
        atende_inbound::function(),
        atende_send::function(),
        atende_send::bulk_function(),
        atende_transfer::function(),
        atende_campaigns::function(),
        atende_flows::function(),
        atende_payments::function(),
        atende_transcription::function(),
    ]
}

/// Every function: HTTP, queue and scheduled.
pub fn all() -> Vec<FunctionSpec> {
    let mut all = vec![atende_api::function(), atende_webhook::function()];
    all.extend(queue_functions().iter().map(QueueFunction::spec));
    all.push(atende_scheduler::function());
    all
}
