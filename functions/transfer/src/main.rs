//! The `transfer` Lambda: wiring only.

use atende_runtime::batch::run_lambda_batch;
use atende_runtime::settings::{AwsSettings, Env};
use atende_runtime::{AppContext, telemetry};
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let ctx = AppContext::aws(&AwsSettings::from_env(&Env::process())?).await?;
    let ctx = &ctx;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        let queue = ctx.deps.queue.as_ref();
        let handler = |e| atende_transfer::handle(ctx, e);
        Ok::<_, lambda_runtime::Error>(
            run_lambda_batch(queue, atende_core::queues::ROUTING, false, event.payload, handler).await,
        )
    }))
    .await
}
