//! Running the web server: start-up, serving, and a graceful, bounded shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::{self, AppState};
use crate::config::{ServeSettings, Settings};
use crate::curriculum;
use crate::db::Database;
use crate::grading::judge::Judge;
use crate::grading::pool::{self, PoolConfig};
use crate::web::assets::Assets;

/// How long in-flight requests may take to finish once shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// `lockstep serve`: everything a single-machine deployment needs.
pub async fn serve(settings: Settings, serve: ServeSettings) -> Result<()> {
    // Everything that can fail without the database is done first, so a bad
    // flag never leaves a private cluster running behind it.
    let programme = load_programme(&settings)?;
    let assets = Assets::load(&serve.static_dir).with_context(|| {
        format!(
            "cannot read static files from {}",
            serve.static_dir.display()
        )
    })?;
    let listener = TcpListener::bind(serve.listen)
        .await
        .with_context(|| format!("cannot listen on {}", serve.listen))?;
    let database = Database::open(&settings, 20).await?;
    let result = serve_with(&settings, &serve, listener, &database, programme, assets).await;
    database.close().await;
    result
}

/// The part of [`serve`] that runs with the database open.
async fn serve_with(
    settings: &Settings,
    serve: &ServeSettings,
    listener: TcpListener,
    database: &Database,
    programme: Arc<curriculum::Programme>,
    assets: Assets,
) -> Result<()> {
    crate::progress::record::remember_versions(&database.pool, &programme).await?;
    let state = AppState {
        auth: Default::default(),
        events: Default::default(),
        db: database.pool.clone(),
        programme,
        assets: Arc::new(assets),
    };
    state.events.spawn_listener(state.db.clone());
    tracing::info!("Lockstep is listening on http://{}", listener.local_addr()?);
    let stop_grading = CancellationToken::new();
    let workers = serve
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let pool = (workers > 0).then(|| {
        let helper = std::env::current_exe().unwrap_or_else(|_| "lockstep".into());
        let config = PoolConfig::with_workers(workers);
        tokio::spawn(grading_pool(
            settings.clone(),
            database.pool.clone(),
            state.programme.clone(),
            helper,
            config,
            stop_grading.clone(),
        ))
    });
    let result = run(listener, state, serve, shutdown_signal()).await;
    stop_grading.cancel();
    if let Some(pool) = pool {
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, pool).await;
    }
    result
}

/// `lockstep worker`: a grading pool alone, for extra machines.
pub async fn worker(settings: Settings, workers: Option<usize>, lease_seconds: u64) -> Result<()> {
    if settings.database_url.is_none() {
        anyhow::bail!(
            "`lockstep worker` grades for a shared database: set DATABASE_URL to the PostgreSQL the web nodes use"
        );
    }
    let programme = load_programme(&settings)?;
    let database = Database::open(&settings, 5).await?;
    let workers =
        workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let stop = CancellationToken::new();
    let helper = std::env::current_exe()?;
    let mut config = PoolConfig::with_workers(workers);
    config.lease = std::time::Duration::from_secs(lease_seconds.max(1));
    let pool = tokio::spawn(grading_pool(
        settings,
        database.pool.clone(),
        programme,
        helper,
        config,
        stop.clone(),
    ));
    shutdown_signal().await;
    tracing::info!("stopping: handing unfinished jobs back");
    stop.cancel();
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, pool).await;
    database.close().await;
    Ok(())
}

/// Prepares the dependency cache (in the background: the web app is already
/// serving), then runs the grading pool until `stop`.
pub async fn grading_pool(
    settings: Settings,
    db: sqlx::PgPool,
    programme: Arc<curriculum::Programme>,
    helper: std::path::PathBuf,
    config: PoolConfig,
    stop: CancellationToken,
) {
    let judge = match Judge::prepare(&settings, helper).await {
        Ok(judge) => judge,
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "the grader cannot start; submissions will wait in the queue"
            );
            return;
        }
    };
    if let Err(error) = pool::run(db, judge, programme, config, stop).await {
        tracing::error!(error = format!("{error:#}"), "the grading pool failed");
    }
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
