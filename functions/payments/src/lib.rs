//! The `payments` function: the `payments` queue's jobs — create a requested payment's
//! charge at Asaas and send its link (`atende_core::payments::charge`), apply an event
//! Asaas delivered (`atende_core::payments::events`).

use atende_core::jobs::PaymentJob;
use atende_runtime::AppContext;
use atende_runtime::function::QueueFunction;

/// The `payments` function: standard `payments` queue, 10 jobs per invocation.
pub fn function() -> QueueFunction {
    QueueFunction::new("payments", atende_core::queues::PAYMENTS, 10, |ctx, job| async move {
        handle(&ctx, job).await
    })
}

pub async fn handle(ctx: &AppContext, job: PaymentJob) -> anyhow::Result<()> {
    use anyhow::Context;
    match job {
        PaymentJob::Create { account_id, payment_id } => {
            atende_core::payments::charge::create(&ctx.deps, &account_id, &payment_id)
                .await
                .with_context(|| format!("creating the charge of payment {payment_id}"))?;
        }
        PaymentJob::Event { account_id, event } => {
            atende_core::payments::events::apply(&ctx.deps, &account_id, &event)
                .await
                .with_context(|| format!("applying payment event {}", event.id))?;
        }
    }
    Ok(())
}
