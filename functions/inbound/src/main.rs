//! The `inbound` Lambda: wiring only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    atende_runtime::lambda::serve_queue(atende_core::queues::INBOUND, true, |ctx, job| async move {
        atende_inbound::handle(&ctx, job).await
    })
    .await
}
