//! The `live` Lambda (WebSocket routes): wiring only.

use atende_runtime::settings::{AwsSettings, Env};
use atende_runtime::{AppContext, telemetry};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let ctx = AppContext::aws(&AwsSettings::from_env(&Env::process())?).await?;
    let ctx = &ctx;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, lambda_runtime::Error>(atende_live::on_socket(ctx, &event.payload).await)
    }))
    .await
}
