//! The `push` Lambda (the table's stream of live events): wiring only.

use atende_aws::{ApiGatewaySockets, AwsConnection, Clients};
use atende_runtime::settings::{AwsSettings, Env};
use atende_runtime::{AppContext, telemetry};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let ctx = AppContext::aws(&AwsSettings::from_env(&Env::process())?).await?;
    let endpoint = std::env::var("ATENDE_LIVE_SOCKET_ENDPOINT")
        .map_err(|_| "ATENDE_LIVE_SOCKET_ENDPOINT (the WebSocket stage's https URL) is required")?;
    let clients = Clients::connect(&AwsConnection {
        endpoint: None,
        region: None,
        dummy_credentials: false,
        lambda_environment: true,
    })
    .await;
    let sockets = ApiGatewaySockets::new(&clients.config, &endpoint);
    let (ctx, sockets) = (&ctx, &sockets);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, lambda_runtime::Error>(atende_live::on_stream(ctx, sockets, &event.payload).await)
    }))
    .await
}
