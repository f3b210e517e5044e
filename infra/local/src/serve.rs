//! `atende serve`: every HTTP router on one address, every consumer and the tick in-process.

use crate::{registry, tick};
use anyhow::Context;
use atende_core::ports::SystemClock;
use atende_runtime::AppContext;
use atende_runtime::context::Embedded;
use atende_runtime::http::with_standard_layers;
use atende_runtime::settings::LocalSettings;
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

/// Starts everything on a prepared context (the benchmarks count its ports' calls).
pub async fn start_with(
    settings: &LocalSettings,
    ctx: AppContext,
    embedded: Embedded,
) -> anyhow::Result<Running> {
    let recovered = embedded.queue.recover_in_flight().await?;
    if recovered > 0 {
        tracing::warn!(recovered, "messages in flight at the last stop are back on their queues");
    }
    let (stop, stopped) = watch::channel(false);
    // Every queue function gets a consumer, as the event source mappings do in AWS; the
    // tick fires timers and sweeps expired items.
    let mut tasks = vec![tokio::spawn(tick::run(
        ctx.clone(),
        embedded.table.clone(),
        settings.tick_interval,
        stopped.clone(),
    ))];
    for function in registry::queue_functions() {
        tasks.push(tokio::spawn(function.consume(ctx.clone(), stopped.clone())));
    }
    let app = with_standard_layers(
        Router::new()
            .route("/health", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
            .merge(atende_runtime::blobs::router(embedded.blob.clone()))
            .merge(atende_webhook::routes(ctx.clone()))
            .merge(atende_api::routes(ctx.clone())),
    );
    let listener = tokio::net::TcpListener::bind(settings.addr).await.with_context(|| {
        format!("listening on {} (set ATENDE_ADDR to use another address)", settings.addr)
    })?;
    let addr = listener.local_addr()?;
    let mut server_stop = stopped;
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|stop| *stop).await;
            })
            .await
    });
    tracing::info!(addr = %addr, data_dir = %settings.data_dir.display(), "atende is serving");
    Ok(Running { addr, ctx, stop, tasks, server })
}

/// `atende serve`: runs until SIGINT or SIGTERM.
pub async fn run(settings: LocalSettings) -> anyhow::Result<()> {
    let running = start(&settings).await?;
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
