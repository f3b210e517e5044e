//! The Lambda entry point of the queue functions: settings, wiring, then the SQS batch
//! runner around the function's declared handler.

use crate::function::QueueFunction;
use crate::settings::{AwsSettings, Env};
use crate::{AppContext, telemetry};
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};

/// Serves SQS batches of the function's queue with its handler, forever.
pub async fn serve_queue(function: QueueFunction) -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let ctx = AppContext::aws(&AwsSettings::from_env(&Env::process())?).await?;
    let (ctx, function) = (&ctx, &function);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(function.lambda_batch(ctx, event.payload).await)
    }))
    .await
}
