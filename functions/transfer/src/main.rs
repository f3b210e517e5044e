//! The `transfer` Lambda: wiring only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    atende_runtime::lambda::serve_queue(atende_core::queues::ROUTING, false, |ctx, job| async move {
        atende_transfer::handle(&ctx, job).await
    })
    .await
}
