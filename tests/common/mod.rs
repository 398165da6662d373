//! Shared test harness: a real PostgreSQL (the private cluster, or
//! `DATABASE_URL`), a fresh database per test, and the real app on a random port.
#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod auth;
pub mod identity_servers;
pub mod process;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use lockstep::application::{Application, Grading};
use lockstep::config::{ServeSettings, Settings};
use lockstep::curriculum::Programme;
use lockstep::db::embedded::{Durability, PrivateCluster};
use lockstep::shutdown::Shutdown;
use sqlx::PgPool;

/// The server URL every test database is created on.
fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-postgres");
            // Every test binary shares it; it stops a few seconds after the
            // last one ends (there is no hook at the end of `cargo test`).
            let cluster = shared_cluster(&dir);
            cluster.url("postgres")
        }
    })
}

/// Starts (or joins) the cluster of `dir`, marked in use for as long as
/// this process lives, with a watcher that stops it once no process has
/// used it for a few seconds.
pub fn shared_cluster(dir: &std::path::Path) -> PrivateCluster {
    static IN_USE: OnceLock<std::fs::File> = OnceLock::new();
    let in_use = lockstep::db::embedded::hold_in_use(dir).expect("mark the test cluster in use");
    let _ = IN_USE.set(in_use);
    let cluster =
        PrivateCluster::start(dir, Durability::Relaxed).expect("start the test PostgreSQL cluster");
    let mut watcher = watch_cluster(dir, 5);
    // Reaped if it ends first (another watcher was there already).
    std::thread::spawn(move || watcher.wait());
    cluster
}

/// Starts `lockstep cluster stop-when-idle` for `dir` (it exits at once if
/// another watcher is there), detached from this process.
pub fn watch_cluster(dir: &std::path::Path, idle_seconds: u64) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    std::process::Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["cluster", "stop-when-idle", "--idle-seconds"])
        .arg(idle_seconds.to_string())
        .arg("--data-dir")
        .arg(dir)
        .process_group(0)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the test cluster's watcher")
}

/// A new, empty, migrated database for one test.
pub async fn fresh_database() -> (PgPool, String) {
    let base_url = server_url().to_string();
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let url = url_for_database(&base_url, &name);
    let pool = lockstep::db::connect(&url, 10)
        .await
        .expect("create and migrate a test database");
    (pool, url)
}

/// `base_url` with its database replaced by `name`.
pub fn url_for_database(base_url: &str, name: &str) -> String {
    let (before_query, query) = match base_url.split_once('?') {
        Some((before, query)) => (before, format!("?{query}")),
        None => (base_url, String::new()),
    };
    let authority_end = before_query.find("://").map_or(0, |i| i + 3);
    let path_start = before_query[authority_end..]
        .find('/')
        .map_or(before_query.len(), |i| authority_end + i);
    format!("{}/{name}{query}", &before_query[..path_start])
}

/// The real curriculum, loaded once per test binary.
pub fn programme() -> Arc<Programme> {
    static PROGRAMME: OnceLock<Arc<Programme>> = OnceLock::new();
    PROGRAMME
        .get_or_init(|| {
            let settings = settings();
            Arc::new(
                lockstep::curriculum::load(
                    &settings.curriculum_dir().expect("the curriculum's dir"),
                )
                .expect("the curriculum loads"),
            )
        })
        .clone()
}

/// Default settings, as the binary would have them, except that the
/// programme and the grader's workspace are read from the source tree (the
/// tests of the built-in copies run the binary: tests/lifecycle.rs).
pub fn settings() -> Settings {
    let mut settings = Settings::from_environment();
    settings.curriculum = Some(source_tree().join("curriculum"));
    settings.grader_deps = Some(source_tree().join("grader/deps"));
    settings
}

/// The package's source tree.
pub fn source_tree() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The app running on a random port.
pub struct TestApp {
    /// `http://127.0.0.1:port`
    pub base_url: String,
    /// The listening address.
    pub addr: SocketAddr,
    /// `--metrics-listen`'s address, when set.
    pub metrics_addr: Option<SocketAddr>,
    /// The test's own database.
    pub db: PgPool,
    /// A client with a cookie jar and no redirects followed.
    pub client: reqwest::Client,
    shutdown: Shutdown,
}

impl TestApp {
    /// `GET base_url + path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .expect("request")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Starts the app against a fresh database.
pub async fn spawn_app() -> TestApp {
    let (db, _) = fresh_database().await;
    spawn_app_with(db).await
}

/// Starts the app against `db`, as `lockstep serve` would but on a random
/// port and without a grading pool; it stops when the `TestApp` is dropped.
/// The queue's fair-use limits are off (tests of them set their own with
/// [`spawn_app_with_limits`]).
pub async fn spawn_app_with(db: PgPool) -> TestApp {
    spawn_app_with_limits(db, lockstep::grading::queue::JobLimits::NONE).await
}

/// [`spawn_app_with`] with the queue's fair-use limits `jobs`.
pub async fn spawn_app_with_limits(
    db: PgPool,
    jobs: lockstep::grading::queue::JobLimits,
) -> TestApp {
    let serve = ServeSettings {
        max_jobs_per_learner: jobs.per_learner,
        max_queued_jobs: jobs.queued,
        ..serve_settings()
    };
    spawn_app_with_serve(db, serve).await
}

/// A web node's settings for tests: a random port, the source tree's
/// static files, no grading pool and no fair-use limits.
pub fn serve_settings() -> ServeSettings {
    ServeSettings {
        listen: "127.0.0.1:0".parse().expect("address"),
        static_dir: Some(source_tree().join("static")),
        workers: Some(0),
        max_jobs_per_learner: lockstep::grading::queue::JobLimits::NONE.per_learner,
        max_queued_jobs: lockstep::grading::queue::JobLimits::NONE.queued,
        trusted_proxies: Vec::new(),
        housekeeping: Default::default(),
        accounts: Default::default(),
    }
}

/// [`spawn_app_with`] with `trusted_proxies` as `--trusted-proxy`.
pub async fn spawn_app_behind(
    db: PgPool,
    trusted_proxies: Vec<lockstep::config::ProxyNetwork>,
) -> TestApp {
    let serve = ServeSettings {
        trusted_proxies,
        ..serve_settings()
    };
    spawn_app_with_serve(db, serve).await
}

/// [`spawn_app_with`] with password reset configured by `args`, as
/// `lockstep serve` would parse them (`--smtp-url`, `--mail-from`); the
/// public URL is the app's own address.
pub async fn spawn_app_with_accounts(db: PgPool, args: &[&str]) -> TestApp {
    // The public URL must be known before the app binds: a free port, chosen here.
    spawn_app_with_accounts_at(db, free_port(), args).await
}

/// A port free at the moment (for an address that must be known before
/// the server that uses it starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// [`spawn_app_with_accounts`] on `port` (its public URL
/// `http://127.0.0.1:port`, known to an OpenID provider started before).
pub async fn spawn_app_with_accounts_at(db: PgPool, port: u16, args: &[&str]) -> TestApp {
    try_spawn_app_with_accounts_at(db, port, args)
        .await
        .expect("the app builds")
}

/// [`spawn_app_with_accounts_at`], or why the app does not start.
pub async fn try_spawn_app_with_accounts_at(
    db: PgPool,
    port: u16,
    args: &[&str],
) -> anyhow::Result<TestApp> {
    use clap::Parser;
    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        accounts: lockstep::config::AccountSettings,
    }
    let public_url = format!("http://127.0.0.1:{port}");
    let accounts = Args::parse_from(
        ["lockstep", "--public-url", public_url.as_str()]
            .into_iter()
            .chain(args.iter().copied()),
    )
    .accounts;
    let serve = ServeSettings {
        listen: format!("127.0.0.1:{port}").parse().expect("address"),
        accounts,
        ..serve_settings()
    };
    try_spawn_application(db, settings(), serve, None).await
}

/// Starts the app against `db` with the web settings `serve` (its `listen`
/// should be port 0).
pub async fn spawn_app_with_serve(db: PgPool, serve: ServeSettings) -> TestApp {
    spawn_application(db, settings(), serve, None).await
}

/// Starts an application with a web node (`serve`, port 0) and, given
/// `grading`, an in-process grading pool, as `lockstep serve` runs.
pub async fn spawn_application(
    db: PgPool,
    settings: Settings,
    serve: ServeSettings,
    grading: Option<Grading>,
) -> TestApp {
    try_spawn_application(db, settings, serve, grading)
        .await
        .expect("the app builds")
}

/// [`spawn_application`], or why the application does not build.
pub async fn try_spawn_application(
    db: PgPool,
    settings: Settings,
    serve: ServeSettings,
    grading: Option<Grading>,
) -> anyhow::Result<TestApp> {
    let app = Application::with_programme(settings, programme(), Some(&serve), grading).await?;
    let addr = app.local_addr().expect("a web node has an address");
    let metrics_addr = app.metrics_addr();
    let shutdown = app.shutdown();
    let running = db.clone();
    tokio::spawn(async move {
        if let Err(error) = app.run(running).await {
            eprintln!("test server failed: {error:#}");
        }
    });
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Ok(TestApp {
        base_url: format!("http://{addr}"),
        addr,
        metrics_addr,
        db,
        client,
        shutdown,
    })
}

/// The grader's data dir, shared by every test binary so the dependency
/// cache is built once per machine.
pub fn grader_data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("grader-data")
}

/// A judge over the real sandbox, with this build's `lockstep` as the helper.
pub async fn judge() -> lockstep::grading::judge::Judge {
    let mut settings = settings();
    settings.data_dir = grader_data_dir();
    // As root (CI) jobs get cgroups and the grader insists on them; a
    // developer's unprivileged run may have none to give.
    settings.allow_no_cgroup = !lockstep::grading::sandbox::cgroup::available();
    lockstep::grading::judge::Judge::prepare(
        &settings,
        PathBuf::from(env!("CARGO_BIN_EXE_lockstep")),
    )
    .await
    .expect("the dependency cache builds")
}

/// A grading pool over `db`, started as `lockstep worker` starts one (with
/// this build's `lockstep` as the sandbox helper); stopped when the returned
/// shutdown is cancelled, and the handle ends once it has drained.
pub async fn spawn_pool(
    db: PgPool,
    config: lockstep::grading::pool::PoolConfig,
) -> (Shutdown, tokio::task::JoinHandle<()>) {
    // Builds the dependency cache before anything is timed.
    let _ = judge().await;
    let mut settings = settings();
    settings.data_dir = grader_data_dir();
    let grading = Grading {
        config,
        helper: PathBuf::from(env!("CARGO_BIN_EXE_lockstep")),
    };
    let app = Application::with_programme(settings, programme(), None, Some(grading))
        .await
        .expect("the pool builds");
    let stop = app.shutdown();
    let handle = tokio::spawn(async move {
        app.run(db).await.expect("pool runs");
    });
    (stop, handle)
}

/// Polls `GET /api/submissions/{id}` as `viewer` until it is done, for at most `seconds`.
pub async fn wait_for_verdict(viewer: &auth::Browser, id: i64, seconds: u64) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        let body: serde_json::Value = viewer
            .get(&format!("/api/submissions/{id}"))
            .await
            .json()
            .await
            .expect("json");
        if body["status"] == "done" {
            return body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "submission {id} not graded in {seconds} s: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
