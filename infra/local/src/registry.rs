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
        atende_hooks::function(),
    ]
}

/// Every function: HTTP, queue and scheduled.
pub fn all() -> Vec<FunctionSpec> {
    let mut all = vec![atende_api::function(), atende_webhook::function()];
    all.extend(queue_functions().iter().map(QueueFunction::spec));
    all.push(atende_scheduler::function());
    // On AWS only: locally the `atende` process streams live updates itself.
    all.push(atende_live::function());
    all.push(atende_live::push_function());
    all
}

/// The functions that seal or open stored secrets (channel tokens, Asaas keys and webhook
/// tokens), so the only ones allowed to decrypt the data key in AWS: the API (writes them,
/// keeps templates at Meta, cancels and refunds at Asaas), the webhook (per-channel
/// verification, Asaas' token), inbound (media downloads), send and bulk (sends), payments,
/// hooks (signs with the endpoints' secrets).
/// A test holds the template's `SecretsKeyPolicy` to this list.
pub const USES_SECRETS: &[&str] = &["api", "bulk", "hooks", "inbound", "payments", "send", "webhook"];
