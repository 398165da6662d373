//! Dashboard benchmark: seeds a cohort of 500 learners working through the
//! whole programme (≥ 100k submissions) with `lockstep::demo`, then times the
//! cohort overview and the submissions CSV export through the real router,
//! in process (`tower::ServiceExt::oneshot`, the whole body read), as an
//! instructor with an API token.
//!
//! Run: `cargo bench --bench dashboard` (uses `DATABASE_URL` or a private
//! PostgreSQL under `target/bench-dashboard-data`). Prints figures; asserts nothing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lockstep::app::AppState;
use lockstep::db::embedded::{Durability, PrivateCluster};
use lockstep::demo::{SeedOptions, seed};
use lockstep::shutdown::Shutdown;
use lockstep::web::assets::Assets;
use tower::ServiceExt;

const LEARNERS: usize = 500;
const OVERVIEW_ROUNDS: usize = 40;
const EXPORT_ROUNDS: usize = 8;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let bench_dir = root.join("target/bench-dashboard-data");
    std::fs::create_dir_all(&bench_dir)?;
    let programme = Arc::new(
        lockstep::curriculum::load(&root.join("curriculum")).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let _cluster;
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            let cluster = PrivateCluster::start(&bench_dir.join("pg"), Durability::Relaxed)?;
            let url = cluster.url("lockstep_dashboard_bench");
            _cluster = cluster;
            url
        }
    };
    let db = lockstep::db::connect(&url, 10).await?;
    sqlx::query!("TRUNCATE users CASCADE").execute(&db).await?;

    let report = seed(
        &db,
        &programme,
        &SeedOptions {
            learners: LEARNERS,
            days: 30,
            cohort: "Benchmark cohort".into(),
            seed: 42,
            whole_programme: true,
        },
    )
    .await?;
    println!(
        "seeded {} learners, {} submissions, {} lesson visits, {} hint reveals in {:.1} s",
        report.learners,
        report.submissions,
        report.lesson_visits,
        report.hint_reveals,
        report.elapsed.as_secs_f64()
    );
    let instructor = lockstep::auth::users::find_by_email(&db, &report.instructor_email)
        .await?
        .expect("the seeded instructor");
    let (_, token) = lockstep::auth::api_tokens::create(
        &db,
        instructor.id,
        &lockstep::auth::api_tokens::TokenName::parse("bench").map_err(|e| anyhow::anyhow!(e))?,
        lockstep::auth::api_tokens::TokenScope::Read,
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;

    let static_dir = root.join("static");
    let shutdown = Shutdown::new();
    let state = AppState::build(
        db.clone(),
        programme,
        Arc::new(Assets::load(&static_dir)?),
        Arc::new(lockstep::metrics::Metrics::new()),
        &shutdown,
    )
    .await?;
    let app = lockstep::app::router(state);
    let get = |path: String| {
        let app = app.clone();
        let token = token.clone();
        async move {
            let started = Instant::now();
            let response = app
                .oneshot(
                    Request::get(&path)
                        .header(header::AUTHORIZATION, format!("Bearer {token}"))
                        .body(Body::empty())
                        .expect("request"),
                )
                .await
                .expect("infallible");
            assert_eq!(response.status(), StatusCode::OK, "GET {path}");
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("body");
            (started.elapsed(), bytes.len())
        }
    };

    let cohort = report.cohort_id;
    for (label, path, rounds) in [
        (
            "overview (500 × all exercises)",
            format!("/instructor/cohorts/{cohort}"),
            OVERVIEW_ROUNDS,
        ),
        (
            "overview sorted by progress",
            format!("/instructor/cohorts/{cohort}?sort=progress"),
            OVERVIEW_ROUNDS,
        ),
        (
            "matrix JSON",
            format!("/api/instructor/cohorts/{cohort}/matrix"),
            OVERVIEW_ROUNDS,
        ),
        (
            "submissions CSV export",
            format!("/instructor/cohorts/{cohort}/export/submissions.csv"),
            EXPORT_ROUNDS,
        ),
        (
            "test results CSV export",
            format!("/instructor/cohorts/{cohort}/export/tests.csv"),
            EXPORT_ROUNDS / 2,
        ),
    ] {
        let _ = get(path.clone()).await; // warm-up
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..rounds {
            let (elapsed, bytes) = get(path.clone()).await;
            times.push(elapsed);
            size = bytes;
        }
        times.sort();
        println!(
            "{label:<32} p50 {:>8.1} ms  p95 {:>8.1} ms  ({} runs, {:.1} MB)",
            ms(percentile(&times, 50)),
            ms(percentile(&times, 95)),
            rounds,
            size as f64 / 1e6
        );
    }
    shutdown.cancel();
    db.close().await;
    Ok(())
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
