//! The `transcription` function: the `transcription` queue's jobs — one received audio or
//! voice message to transcribe (`atende_core::transcription`).

use atende_core::jobs::TranscriptionJob;
use atende_runtime::AppContext;
use atende_runtime::function::QueueFunction;

/// The `transcription` function: standard `transcription` queue, 5 jobs per invocation
/// (each may wait on the provider for tens of seconds).
pub fn function() -> QueueFunction {
    QueueFunction::new("transcription", atende_core::queues::TRANSCRIPTION, 5, |ctx, job| async move {
        handle(&ctx, job).await
    })
}

pub async fn handle(ctx: &AppContext, job: TranscriptionJob) -> anyhow::Result<()> {
    use anyhow::Context;
    atende_core::transcription::run(&ctx.deps, &job)
        .await
        .with_context(|| format!("transcribing message {}", job.message_id))?;
    Ok(())
}
