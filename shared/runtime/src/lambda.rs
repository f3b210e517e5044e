//! The Lambda entry point of the queue functions: settings, wiring, then the SQS batch
//! runner around one handler.

use crate::batch::run_lambda_batch;
use crate::settings::{AwsSettings, Env};
use crate::{AppContext, telemetry};
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use serde::de::DeserializeOwned;
use std::future::Future;

/// Serves SQS batches of `queue` with `handler`, forever.
pub async fn serve_queue<T, F, Fut>(
    queue: &'static str,
    fifo: bool,
    handler: F,
) -> Result<(), lambda_runtime::Error>
where
    T: DeserializeOwned,
    F: Fn(AppContext, T) -> Fut + Clone,
    Fut: Future<Output = anyhow::Result<()>>,
{
    telemetry::init();
    let ctx = AppContext::aws(&AwsSettings::from_env(&Env::process())?).await?;
    let ctx = &ctx;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let handler = handler.clone();
        async move {
            let run = |job: T| handler(ctx.clone(), job);
            Ok::<_, lambda_runtime::Error>(
                run_lambda_batch(ctx.deps.queue.as_ref(), queue, fifo, event.payload, run).await,
            )
        }
    }))
    .await
}
