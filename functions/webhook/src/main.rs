//! The `webhook` Lambda: wiring only.

use atende_runtime::settings::{AwsSettings, Env};
use atende_runtime::{AppContext, telemetry};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let settings = AwsSettings::from_env(&Env::process())?;
    let ctx = AppContext::aws(&settings).await?;
    lambda_http::run(atende_webhook::router(ctx)).await
}
