//! Start-up and shutdown, in one place for every way Lockstep runs: `serve`
//! (a web node with an in-process grading pool), `worker` (a pool alone) and
//! the test harness (a web node on a random port).
//!
//! Start-up happens in two steps so that nothing that can fail without the
//! database leaves a private cluster running: [`Application::build`] loads
//! the programme, the static files and binds the socket; only then does the
//! caller open the database and hand it to [`Application::run`], which builds
//! the [`AppState`] (the one place it is built for a server), starts the
//! event hub's listener and the grading pool, and serves until the
//! application's [`Shutdown`] begins. Shutdown then runs in order: the
//! server stops accepting and finishes in-flight requests, the pool hands
//! unfinished jobs back (its report is logged), and `run` returns.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::app::{self, AppState};
use crate::auth::SignInMethods;
use crate::config::{Housekeeping, ProxyNetwork, ServeSettings, Settings};
use crate::curriculum::{self, Programme};
use crate::grading::deps::{PinnedCrates, pinned_crates};
use crate::grading::judge::Judge;
use crate::grading::pool::{self, Drained, PoolConfig};
use crate::grading::queue::JobLimits;
use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
use crate::web::assets::Assets;
use crate::web::events::EventHub;

/// How long in-flight requests, and then the grading pool, may take to
/// finish once shutdown begins.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A Lockstep process, built from its settings and ready to run.
pub struct Application {
    settings: Settings,
    programme: Arc<Programme>,
    web: Option<WebNode>,
    grading: Option<Grading>,
    metrics: Arc<Metrics>,
    /// `--metrics-listen`: the probes and `/metrics` on an address of their own.
    metrics_listener: Option<TcpListener>,
    shutdown: Shutdown,
}

/// The web side of an application: its socket and its static files.
struct WebNode {
    listener: TcpListener,
    assets: Arc<Assets>,
    jobs: JobLimits,
    trusted_proxies: Vec<ProxyNetwork>,
    housekeeping: Housekeeping,
    crates: Arc<PinnedCrates>,
    sign_in: Arc<SignInMethods>,
}

/// The grading side of an application: how many workers, and the binary
/// that runs the sandbox.
#[derive(Debug, Clone)]
pub struct Grading {
    /// The pool's workers and timings.
    pub config: PoolConfig,
    /// The `lockstep` binary the sandbox starts as its helper.
    pub helper: PathBuf,
}

impl Grading {
    /// A pool of `workers` workers (`None`: one per core), with this
    /// executable as the sandbox helper; `None` when `workers` is 0.
    pub fn with_workers(workers: Option<usize>) -> Option<Self> {
        let workers =
            workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        (workers > 0).then(|| Self {
            config: PoolConfig::with_workers(workers),
            // Without it (an unusual platform) the sandbox fails each job
            // with a clear error rather than the server failing to start.
            helper: std::env::current_exe().unwrap_or_else(|_| "lockstep".into()),
        })
    }
}

impl Application {
    /// Loads everything that needs no database: the programme, and for a
    /// web node (`web` given) its static files and listening socket.
    pub async fn build(
        settings: Settings,
        web: Option<&ServeSettings>,
        grading: Option<Grading>,
    ) -> Result<Self> {
        let programme = load_programme(&settings)?;
        Self::with_programme(settings, programme, web, grading).await
    }

    /// [`Application::build`] with the programme already loaded (the tests
    /// load it once for many applications).
    pub async fn with_programme(
        settings: Settings,
        programme: Arc<Programme>,
        web: Option<&ServeSettings>,
        grading: Option<Grading>,
    ) -> Result<Self> {
        let web = match web {
            Some(serve) => Some(WebNode::bind(serve, &settings).await?),
            None => None,
        };
        let metrics = Arc::new(Metrics::new());
        let metrics_listener = match settings.metrics_listen {
            Some(address) => {
                metrics.serve_elsewhere();
                Some(
                    TcpListener::bind(address)
                        .await
                        .with_context(|| format!("cannot listen on {address} for /metrics"))?,
                )
            }
            None => None,
        };
        Ok(Self {
            settings,
            programme,
            web,
            grading,
            metrics,
            metrics_listener,
            shutdown: Shutdown::new(),
        })
    }

    /// The address the web node listens on (`None` without one).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.web
            .as_ref()
            .and_then(|web| web.listener.local_addr().ok())
    }

    /// The address of `--metrics-listen`'s listener, if there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// The application's shutdown: cancel it to stop [`Application::run`].
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Runs against `db` until the shutdown begins, then stops everything it
    /// started, in order, before returning.
    pub async fn run(self, db: PgPool) -> Result<()> {
        let Self {
            settings,
            programme,
            web,
            grading,
            metrics,
            metrics_listener,
            shutdown,
        } = self;
        if let Some(listener) = metrics_listener {
            let probe = crate::web::health::Probe {
                db: db.clone(),
                metrics: metrics.clone(),
            };
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let served = axum::serve(listener, crate::web::health::router(probe))
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .await;
                if let Err(error) = served {
                    tracing::error!(%error, "the /metrics listener failed");
                }
            });
        }
        let state = match &web {
            Some(web) => {
                match AppState::build(
                    db.clone(),
                    programme.clone(),
                    web.assets.clone(),
                    metrics.clone(),
                    &shutdown,
                )
                .await
                {
                    Ok(state) => Some(AppState {
                        jobs: web.jobs,
                        crates: web.crates.clone(),
                        trusted_proxies: web.trusted_proxies.clone().into(),
                        sign_in: web.sign_in.clone(),
                        ..state
                    }),
                    Err(error) => {
                        shutdown.cancel();
                        return Err(error);
                    }
                }
            }
            None => None,
        };
        let pool = grading.map(|grading| {
            metrics.expect_workers(grading.config.workers);
            tokio::spawn(grading_pool(
                settings,
                db.clone(),
                programme,
                grading,
                metrics.clone(),
                shutdown.clone(),
            ))
        });
        let served = match (web, state) {
            (Some(web), Some(state)) => {
                let housekeeping = tokio::spawn(crate::housekeeping::run(
                    state.db.clone(),
                    web.housekeeping.clone(),
                    shutdown.clone(),
                ));
                let served = serve(web.listener, state, shutdown.clone()).await;
                shutdown.cancel();
                let _ = housekeeping.await;
                served
            }
            _ => {
                shutdown.cancelled().await;
                Ok(())
            }
        };
        // Whether the server stopped on request or failed, the pool stops too.
        shutdown.cancel();
        if let Some(pool) = pool {
            tracing::info!("stopping the grading pool: handing unfinished jobs back");
            match tokio::time::timeout(DRAIN_TIMEOUT, pool).await {
                Ok(Ok(Some(drained))) => log_drained(drained),
                Ok(Ok(None)) => {}
                Ok(Err(error)) => tracing::error!(%error, "the grading pool panicked"),
                Err(_) => tracing::warn!(
                    "the grading pool did not stop within {DRAIN_TIMEOUT:?}; its jobs return when their leases expire"
                ),
            }
        }
        served
    }
}

impl WebNode {
    async fn bind(serve: &ServeSettings, settings: &Settings) -> Result<Self> {
        // A web node without the grader's workspace still serves; only
        // `lockstep learn download` then lacks the crate versions.
        let crates = match settings
            .grader_deps_dir()
            .and_then(|dir| pinned_crates(&dir))
        {
            Ok(crates) => crates,
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "cannot read the grader's pinned crates"
                );
                PinnedCrates::default()
            }
        };
        let assets = match &serve.static_dir {
            Some(dir) => Assets::load(dir)
                .with_context(|| format!("cannot read static files from {}", dir.display()))?,
            None => Assets::built_in(),
        };
        let listener = TcpListener::bind(serve.listen)
            .await
            .with_context(|| format!("cannot listen on {}", serve.listen))?;
        Ok(Self {
            listener,
            assets: Arc::new(assets),
            jobs: JobLimits {
                per_learner: serve.max_jobs_per_learner,
                queued: serve.max_queued_jobs,
            },
            trusted_proxies: serve.trusted_proxies.clone(),
            housekeeping: serve.housekeeping.clone(),
            crates: Arc::new(crates),
            sign_in: Arc::new(SignInMethods::configure(&serve.accounts).await?),
        })
    }
}

impl AppState {
    /// The state of a web node over `db`: records the exercise versions
    /// learners may later compare against, and starts the event hub's
    /// listener, which stops with `shutdown`.
    pub async fn build(
        db: PgPool,
        programme: Arc<Programme>,
        assets: Arc<Assets>,
        metrics: Arc<Metrics>,
        shutdown: &Shutdown,
    ) -> Result<Self> {
        crate::progress::record::remember_versions(&db, &programme)
            .await
            .context("cannot record the exercise versions")?;
        let state = AppState {
            auth: Default::default(),
            events: Arc::new(EventHub::new(shutdown.clone())),
            db,
            programme,
            assets,
            jobs: Default::default(),
            trusted_proxies: Arc::new([]),
            metrics,
            crates: Default::default(),
            sign_in: Default::default(),
        };
        state.events.spawn_listener(state.db.clone());
        state.events.spawn_session_evictor(state.auth.clone());
        Ok(state)
    }
}

/// Prepares the dependency cache (in the background: the web app is already
/// serving), then runs the grading pool until `shutdown`. `None` when the
/// grader could not start or the pool failed (both are logged).
async fn grading_pool(
    settings: Settings,
    db: PgPool,
    programme: Arc<Programme>,
    grading: Grading,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
) -> Option<Drained> {
    let judge = match Judge::prepare_until(&settings, grading.helper, &shutdown).await {
        Ok(judge) => judge,
        Err(error) if error.is::<crate::grading::deps::Cancelled>() => {
            tracing::info!("stopped before the grader's dependency cache was ready");
            return None;
        }
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "the grader cannot start; submissions will wait in the queue"
            );
            return None;
        }
    };
    // Lesson examples compiled before anyone asks (only the first start
    // compiles; later ones find them cached), on one thread beside the pool.
    let prebuild = {
        let (judge, programme, shutdown) = (judge.clone(), programme.clone(), shutdown.clone());
        tokio::task::spawn_blocking(move || {
            let (built, failed) =
                judge.prebuild_examples(&programme, 1, &|| shutdown.is_cancelled());
            tracing::info!(
                built,
                failed = failed.len(),
                "lesson examples in the build cache"
            );
        })
    };
    metrics.set_grader_ready(true);
    let drained = pool::run(
        db,
        judge,
        programme,
        grading.config,
        metrics.clone(),
        shutdown,
    )
    .await;
    metrics.set_grader_ready(false);
    let _ = prebuild.await;
    match drained {
        Ok(drained) => Some(drained),
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "the grading pool failed");
            None
        }
    }
}

fn log_drained(drained: Drained) {
    if drained.workers_panicked > 0 {
        tracing::warn!(
            jobs_handed_back = drained.jobs_handed_back,
            workers_panicked = drained.workers_panicked,
            "grading pool stopped; some workers had panicked"
        );
    } else {
        tracing::info!(
            jobs_handed_back = drained.jobs_handed_back,
            "grading pool stopped"
        );
    }
}

/// Serves `state` on `listener` until `shutdown` begins, then lets in-flight
/// requests finish for at most [`DRAIN_TIMEOUT`].
async fn serve(listener: TcpListener, state: AppState, shutdown: Shutdown) -> Result<()> {
    tracing::info!("Lockstep is listening on http://{}", listener.local_addr()?);
    // With the peer address, for per-address log-in limits.
    let router = app::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let graceful = shutdown.clone();
    let server = axum::serve(listener, router)
        .with_graceful_shutdown(async move { graceful.cancelled().await });
    let mut server = tokio::spawn(async move { server.await });
    tokio::select! {
        result = &mut server => return Ok(result??),
        () = shutdown.cancelled() => {}
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
pub fn load_programme(settings: &Settings) -> Result<Arc<Programme>> {
    let programme = curriculum::load(&settings.curriculum_dir()?)
        .map_err(|e| anyhow::anyhow!("the curriculum is invalid: {e}"))?;
    tracing::info!(
        modules = programme.modules.len(),
        lessons = programme.lessons().count(),
        exercises = programme.exercises().count(),
        "curriculum loaded"
    );
    Ok(Arc::new(programme))
}
