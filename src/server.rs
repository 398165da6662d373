//! Running the web server: start-up, serving, and a graceful, bounded shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::net::TcpListener;

use crate::app::{self, AppState};
use crate::config::{ServeSettings, Settings};
use crate::curriculum;
use crate::db::Database;
use crate::web::assets::Assets;

/// How long in-flight requests may take to finish once shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// `lockstep serve`: everything a single-machine deployment needs.
pub async fn serve(settings: Settings, serve: ServeSettings) -> Result<()> {
    let programme = load_programme(&settings)?;
    let database = Database::open(&settings, 20).await?;
    let state = AppState {
        auth: Default::default(),
        db: database.pool.clone(),
        programme,
        assets: Arc::new(Assets::load(&serve.static_dir).with_context(|| {
            format!(
                "cannot read static files from {}",
                serve.static_dir.display()
            )
        })?),
    };
    let listener = TcpListener::bind(serve.listen)
        .await
        .with_context(|| format!("cannot listen on {}", serve.listen))?;
    tracing::info!("Lockstep is listening on http://{}", listener.local_addr()?);
    let result = run(listener, state, &serve, shutdown_signal()).await;
    database.close().await;
    result
}

/// Serves `state` on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish for at most [`DRAIN_TIMEOUT`].
pub async fn run(
    listener: TcpListener,
    state: AppState,
    serve: &ServeSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let router = app::router(state, &serve.static_dir);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // With the peer address, for per-address log-in limits.
    let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut stopping = stop_rx.clone();
    let server = tokio::spawn(async move { server.await });
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return Ok(result??),
        _ = stopping.wait_for(|stop| *stop) => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
    match tokio::time::timeout(DRAIN_TIMEOUT, &mut server).await {
        Ok(result) => Ok(result??),
        Err(_) => {
            tracing::warn!("in-flight requests did not finish in {DRAIN_TIMEOUT:?}; closing them");
            server.abort();
            Ok(())
        }
    }
}

/// Loads the programme, turning content errors into a start-up error that names the file.
pub fn load_programme(settings: &Settings) -> Result<Arc<curriculum::Programme>> {
    let programme = curriculum::load(&settings.curriculum)
        .map_err(|e| anyhow::anyhow!("the curriculum is invalid: {e}"))?;
    tracing::info!(
        modules = programme.modules.len(),
        lessons = programme.lessons().count(),
        exercises = programme.exercises().count(),
        "curriculum loaded"
    );
    Ok(Arc::new(programme))
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                let _ = interrupt.await;
                return;
            }
        };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
