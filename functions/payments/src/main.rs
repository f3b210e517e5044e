//! The `payments` Lambda: wiring only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    atende_runtime::lambda::serve_queue(atende_payments::function()).await
}
