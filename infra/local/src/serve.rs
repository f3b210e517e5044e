//! `atende serve`: every HTTP router on one address, every consumer and the tick in-process,
//! on the embedded adapters or (`--aws`) on DynamoDB, SQS and S3 at one endpoint.

use crate::{registry, tick};
use anyhow::Context;
use atende_core::ports::SystemClock;
use atende_runtime::AppContext;
use atende_runtime::context::Embedded;
use atende_runtime::http::with_standard_layers;
use atende_runtime::settings::{LocalAws, LocalSettings};
use axum::Router;
use axum::routing::get;
use std::sync::Arc;
use tokio::sync::watch;

/// The whole product running in this process.
pub struct Running {
    /// Where it listens (useful with port 0).
    pub addr: std::net::SocketAddr,
    pub ctx: AppContext,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stops serving, lets the consumers and the tick finish their round, and returns.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.server.await??;
        for task in self.tasks {
            let _ = task.await;
        }
        Ok(())
    }
}

/// Opens the data directory and starts everything.
pub async fn start(settings: &LocalSettings) -> anyhow::Result<Running> {
    let (ctx, embedded) = AppContext::embedded(settings, Arc::new(SystemClock))?;
    start_with(settings, ctx, embedded).await
}

/// `atende serve --aws`: everything on DynamoDB, SQS and S3 at `aws.endpoint`, each
/// consumer polling its SQS queue as the event source mappings do.
pub async fn start_on_aws(settings: &LocalSettings, aws: &LocalAws) -> anyhow::Result<Running> {
    let (ctx, _) = AppContext::local_on_aws(settings, aws, Arc::new(SystemClock)).await?;
    tracing::info!(endpoint = %aws.endpoint, table = %aws.names.table, "on the AWS adapters");
    start_on(settings, ctx, None).await
}

/// Starts everything on a prepared embedded context (the benchmarks count its ports' calls).
pub async fn start_with(
    settings: &LocalSettings,
    ctx: AppContext,
    embedded: Embedded,
) -> anyhow::Result<Running> {
    let recovered = embedded.queue.recover_in_flight().await?;
    if recovered > 0 {
        tracing::warn!(recovered, "messages in flight at the last stop are back on their queues");
    }
    start_on(settings, ctx, Some(embedded)).await
}

/// Every router, consumer and the tick on `ctx`; `embedded` adds what only the embedded
/// adapters need (serving presigned blob links, sweeping expired items, which S3 and
/// DynamoDB's TTL do in AWS).
async fn start_on(
    settings: &LocalSettings,
    ctx: AppContext,
    embedded: Option<Embedded>,
) -> anyhow::Result<Running> {
    let (stop, stopped) = watch::channel(false);
    // Every queue function gets a consumer, as the event source mappings do in AWS; the
    // tick fires timers (and sweeps expired items on the embedded table).
    let mut tasks = vec![tokio::spawn(tick::run(
        ctx.clone(),
        embedded.as_ref().map(|e| e.table.clone()),
        settings.tick_interval,
        stopped.clone(),
    ))];
    for function in registry::queue_functions() {
        for _ in 0..settings.pollers_per_queue {
            tasks.push(tokio::spawn(function.consume(ctx.clone(), stopped.clone())));
        }
    }
    let mut app = Router::new()
        .route("/health", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .merge(atende_webhook::routes(ctx.clone()))
        .merge(atende_api::routes(ctx.clone()))
        .merge(crate::console::router());
    if let Some(embedded) = &embedded {
        app = app.merge(atende_runtime::blobs::router(embedded.blob.clone()));
    }
    let app = with_standard_layers(app);
    let listener = tokio::net::TcpListener::bind(settings.addr).await.with_context(|| {
        format!("listening on {} (set ATENDE_ADDR to use another address)", settings.addr)
    })?;
    let addr = listener.local_addr()?;
    let mut server_stop = stopped;
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|stop| *stop).await;
            })
            .await
    });
    tracing::info!(addr = %addr, data_dir = %settings.data_dir.display(), "atende is serving");
    Ok(Running { addr, ctx, stop, tasks, server })
}

/// `atende serve` (with `aws`, `atende serve --aws`): runs until SIGINT or SIGTERM.
pub async fn run(settings: LocalSettings, aws: Option<LocalAws>) -> anyhow::Result<()> {
    let running = match &aws {
        None => start(&settings).await?,
        Some(aws) => start_on_aws(&settings, aws).await?,
    };
    shutdown_signal().await;
    running.stop().await?;
    tracing::info!("atende stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
