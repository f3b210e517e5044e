//! The `send` Lambda: wiring only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    atende_runtime::lambda::serve_queue(atende_core::queues::OUTBOUND, true, |ctx, job| async move {
        atende_send::handle(&ctx, job).await
    })
    .await
}
