//! The `hooks` Lambda: wiring only.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    atende_runtime::lambda::serve_queue(atende_hooks::function()).await
}
