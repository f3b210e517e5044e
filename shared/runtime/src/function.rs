//! A function declared once: its name, what triggers it and, for a queue function, its
//! queue, batch size and handler. The Lambda `main`s serve these declarations, the local
//! runtime consumes with them, the tests and the bench drain with them, and a test holds
//! `infra/template.yaml` to the list of them (`atende_local::registry`).

use crate::AppContext;
use crate::batch::run_lambda_batch;
use crate::consumer::{consume, drain_once};
use atende_core::ports::QueueSpec;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::watch;

/// What runs a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// HTTP routes behind the HTTP API (each path as the SAM template writes it).
    Http { paths: Vec<String> },
    /// An SQS queue's event source mapping.
    Queue { queue: String, batch_size: u32 },
    /// A schedule (EventBridge).
    Schedule { expression: String },
    /// Routes of the WebSocket API (`$connect`, `$disconnect`, `$default`).
    WebSocket { routes: Vec<String> },
    /// The table's stream, filtered to new items whose `pk` starts with `pk_prefix`.
    TableStream { pk_prefix: String },
}

/// A function of the set: `functions/<name>`, its binary `<name>`, and `<Name>Function`
/// in the SAM template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    pub name: &'static str,
    pub trigger: Trigger,
}

type Consume = dyn Fn(AppContext, watch::Receiver<bool>) -> BoxFuture<'static, ()> + Send + Sync;
type Drain = dyn Fn(AppContext) -> BoxFuture<'static, anyhow::Result<usize>> + Send + Sync;
type LambdaBatch = dyn Fn(AppContext, SqsEvent) -> BoxFuture<'static, SqsBatchResponse> + Send + Sync;

/// A function fed by a queue: the declaration and its handler, type-erased so functions
/// with different job types sit in one list.
#[derive(Clone)]
pub struct QueueFunction {
    pub name: &'static str,
    pub queue: QueueSpec,
    /// Messages per Lambda invocation (the event source mapping's `BatchSize`).
    pub batch_size: u32,
    consume: Arc<Consume>,
    drain: Arc<Drain>,
    lambda: Arc<LambdaBatch>,
}

impl QueueFunction {
    /// Declares `name` as the consumer of `queue` (one of `atende_core::queues::all()`),
    /// running `handler` on each job (a body that is not a `T` is poison: dead-lettered).
    pub fn new<T, F, Fut>(name: &'static str, queue: &str, batch_size: u32, handler: F) -> Self
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(AppContext, T) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let spec = atende_core::queues::all().into_iter().find(|s| s.name == queue).unwrap_or_else(|| {
            panic!("{name} consumes {queue}, which is not one of atende_core::queues::all()")
        });
        let (q, fifo, visibility) = (spec.name.clone(), spec.fifo, spec.visibility_timeout);
        let h = handler.clone();
        let consume: Arc<Consume> = Arc::new(move |ctx, stop| {
            let (h, q, queue) = (h.clone(), q.clone(), ctx.deps.queue.clone());
            Box::pin(consume(queue, q, fifo, visibility, move |job: T| h(ctx.clone(), job), stop))
        });
        let (h, q) = (handler.clone(), spec.name.clone());
        let drain: Arc<Drain> = Arc::new(move |ctx| {
            let (h, q) = (h.clone(), q.clone());
            Box::pin(async move {
                let queue = ctx.deps.queue.clone();
                drain_once(&queue, &q, fifo, visibility, &|job: T| h(ctx.clone(), job)).await
            })
        });
        let (h, q) = (handler, spec.name.clone());
        let lambda: Arc<LambdaBatch> = Arc::new(move |ctx, event| {
            let (h, q) = (h.clone(), q.clone());
            Box::pin(async move {
                let queue = ctx.deps.queue.clone();
                run_lambda_batch(queue.as_ref(), &q, fifo, event, |job: T| h(ctx.clone(), job)).await
            })
        });
        Self { name, queue: spec, batch_size, consume, drain, lambda }
    }

    pub fn spec(&self) -> FunctionSpec {
        FunctionSpec {
            name: self.name,
            trigger: Trigger::Queue { queue: self.queue.name.clone(), batch_size: self.batch_size },
        }
    }

    /// The local consumer loop, until `stop` turns true (what the event source mapping does).
    pub fn consume(&self, ctx: AppContext, stop: watch::Receiver<bool>) -> BoxFuture<'static, ()> {
        (self.consume)(ctx, stop)
    }

    /// One receive-run-ack round on the context's queue; how many messages it handled.
    pub fn drain_once(&self, ctx: &AppContext) -> BoxFuture<'static, anyhow::Result<usize>> {
        (self.drain)(ctx.clone())
    }

    /// One Lambda SQS batch.
    pub fn lambda_batch(&self, ctx: &AppContext, event: SqsEvent) -> BoxFuture<'static, SqsBatchResponse> {
        (self.lambda)(ctx.clone(), event)
    }
}
