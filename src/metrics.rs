//! What an operator's monitoring reads: Prometheus metrics of the web node
//! and the grading pool, and the readiness `/readyz` reports.
//!
//! One [`Metrics`] per process, built by [`crate::application::Application`]
//! and shared by the router (HTTP requests, live streams), the grading pool
//! (verdicts, phases, limit hits) and the scrape itself, which samples the
//! queue and the database pool at the moment it is read: a gauge kept up to
//! date by every writer would be wrong on a node that is not the writer
//! (several web nodes and workers share one queue).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sqlx::PgPool;

/// An HTTP request's route (the pattern it matched, never the raw path,
/// so ids do not make one series each), method and status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// `/api/submissions/{id}`; `unmatched` for the fallback.
    pub route: String,
    /// `GET`, `POST`, …
    pub method: String,
    /// `200`, `404`, …
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VerdictLabels {
    status: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

/// A recorded verdict as the metrics see it: the words of its status and
/// reason (as the verdict's JSON spells them) and its phases in ms. Plain
/// data, so this module needs nothing of the grader's.
#[derive(Debug, Clone, Copy)]
pub struct GradedJob {
    /// `pass`, `fail` or `error`.
    pub status: &'static str,
    /// Why it is `error` (`timeout`, `memory_limit`, …).
    pub reason: Option<&'static str>,
    /// Waiting in the queue.
    pub queue_ms: u64,
    /// Compiling.
    pub compile_ms: u64,
    /// Running.
    pub run_ms: u64,
    /// From submission to verdict.
    pub total_ms: u64,
}

/// The process's metrics and readiness.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Histogram>,
    grading_seconds: Family<PhaseLabels, Histogram>,
    verdicts: Family<VerdictLabels, Counter>,
    limit_hits: Family<LimitLabels, Counter>,
    sse_streams: Gauge,
    queue_depth: Gauge,
    oldest_job_age: Gauge<f64, AtomicU64>,
    db_connections: Family<PoolLabels, Gauge>,
    workers_running: Gauge,
    grader_ready: Gauge,
    /// Whether this process runs a grading pool (a web node with
    /// `--workers 0` leaves grading to `lockstep worker` nodes).
    grades: AtomicBool,
    workers_expected: AtomicUsize,
    /// `/metrics` has a listener of its own (`--metrics-listen`).
    own_listener: AtomicBool,
}

fn http_histogram() -> Histogram {
    // 1 ms to ~16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn grading_histogram() -> Histogram {
    // 5 ms to ~40 s: a cached run to a slow compile under load.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric registered, at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("lockstep");
        let http_requests =
            Family::<HttpLabels, Histogram>::new_with_constructor(http_histogram as fn() -> _);
        registry.register(
            "http_request_duration_seconds",
            "HTTP requests by route, method and status, and how long they took",
            http_requests.clone(),
        );
        let grading_seconds =
            Family::<PhaseLabels, Histogram>::new_with_constructor(grading_histogram as fn() -> _);
        registry.register(
            "grading_duration_seconds",
            "Time graded jobs spent in each phase (queue, compile, run) and in all (total)",
            grading_seconds.clone(),
        );
        let verdicts = Family::<VerdictLabels, Counter>::default();
        registry.register(
            "verdicts",
            "Verdicts recorded by this process's grading pool, by status and reason",
            verdicts.clone(),
        );
        let limit_hits = Family::<LimitLabels, Counter>::default();
        registry.register(
            "sandbox_limit_hits",
            "Jobs stopped by a sandbox limit (time, memory, output)",
            limit_hits.clone(),
        );
        let sse_streams = Gauge::default();
        registry.register(
            "sse_streams",
            "Server-sent event streams open on this node",
            sse_streams.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "queue_jobs_waiting",
            "Jobs queued and not yet claimed (the whole queue, sampled at scrape)",
            queue_depth.clone(),
        );
        let oldest_job_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "queue_oldest_job_age_seconds",
            "Age of the oldest job waiting in the queue (0 when none waits)",
            oldest_job_age.clone(),
        );
        let db_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections of this process, by state (idle, in_use)",
            db_connections.clone(),
        );
        let workers_running = Gauge::default();
        registry.register(
            "grading_workers",
            "Grading workers running in this process",
            workers_running.clone(),
        );
        let grader_ready = Gauge::default();
        registry.register(
            "grader_ready",
            "1 once the grader's dependency cache is built and the sandbox works",
            grader_ready.clone(),
        );
        Self {
            registry,
            http_requests,
            grading_seconds,
            verdicts,
            limit_hits,
            sse_streams,
            queue_depth,
            oldest_job_age,
            db_connections,
            workers_running,
            grader_ready,
            grades: AtomicBool::new(false),
            workers_expected: AtomicUsize::new(0),
            own_listener: AtomicBool::new(false),
        }
    }

    /// `/metrics` is served on an address of its own from now on.
    pub fn serve_elsewhere(&self) {
        self.own_listener.store(true, Ordering::Relaxed);
    }

    /// Whether `/metrics` is served on an address of its own.
    pub fn served_elsewhere(&self) -> bool {
        self.own_listener.load(Ordering::Relaxed)
    }

    /// Counts one HTTP request that took `elapsed`.
    pub fn observe_request(&self, labels: HttpLabels, elapsed: Duration) {
        self.http_requests
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one recorded verdict: its outcome, its phases and any limit it hit.
    pub fn observe_verdict(&self, verdict: GradedJob) {
        for (phase, ms) in [
            ("queue", verdict.queue_ms),
            ("compile", verdict.compile_ms),
            ("run", verdict.run_ms),
            ("total", verdict.total_ms),
        ] {
            self.grading_seconds
                .get_or_create(&PhaseLabels { phase })
                .observe(ms as f64 / 1000.0);
        }
        let reason = verdict.reason.unwrap_or("none");
        self.verdicts
            .get_or_create(&VerdictLabels {
                status: verdict.status,
                reason,
            })
            .inc();
        let limit = match reason {
            "timeout" => Some("time"),
            "memory_limit" => Some("memory"),
            "output_limit" => Some("output"),
            _ => None,
        };
        if let Some(limit) = limit {
            self.limit_hits.get_or_create(&LimitLabels { limit }).inc();
        }
    }

    /// Counts an open event stream until the returned guard is dropped.
    pub fn sse_stream_opened(&self) -> StreamGuard {
        self.sse_streams.inc();
        StreamGuard(self.sse_streams.clone())
    }

    /// This process runs a pool of `workers` workers (readiness waits for them).
    pub fn expect_workers(&self, workers: usize) {
        self.grades.store(true, Ordering::Relaxed);
        self.workers_expected.store(workers, Ordering::Relaxed);
    }

    /// The grader is (or is no longer) able to grade.
    pub fn set_grader_ready(&self, ready: bool) {
        self.grader_ready.set(i64::from(ready));
    }

    /// Counts a grading worker running until the returned guard is dropped.
    pub fn worker_started(&self) -> WorkerGuard {
        self.workers_running.inc();
        WorkerGuard(self.workers_running.clone())
    }

    /// What stops this process from doing its work, if anything but the
    /// database (which [`crate::web::health`] probes itself).
    pub fn grading_unready(&self) -> Option<String> {
        if !self.grades.load(Ordering::Relaxed) {
            return None;
        }
        if self.grader_ready.get() == 0 {
            return Some("the grader is not ready (its dependency cache is building, or it failed: see the log)".into());
        }
        let running = self.workers_running.get();
        let expected = self.workers_expected.load(Ordering::Relaxed) as i64;
        (running < expected).then(|| format!("{running} of {expected} grading workers running"))
    }

    /// The metrics in Prometheus' text format, with the queue and the
    /// database pool sampled now (each sample within `timeout`; a gauge that
    /// cannot be sampled keeps its last value rather than failing the scrape).
    pub async fn render(&self, db: &PgPool, timeout: Duration) -> String {
        let size = i64::from(db.size());
        let idle = db.num_idle() as i64;
        self.db_connections
            .get_or_create(&PoolLabels { state: "idle" })
            .set(idle);
        self.db_connections
            .get_or_create(&PoolLabels { state: "in_use" })
            .set((size - idle).max(0));
        let sample = sqlx::query!(
            r#"SELECT count(*) AS "waiting!",
                      COALESCE(EXTRACT(EPOCH FROM now() - min(created_at))::float8, 0) AS "oldest_seconds!"
               FROM submissions WHERE status = 'queued'"#
        )
        .fetch_one(db);
        match tokio::time::timeout(timeout, sample).await {
            Ok(Ok(row)) => {
                self.queue_depth.set(row.waiting);
                self.oldest_job_age.set(row.oldest_seconds.max(0.0));
            }
            Ok(Err(error)) => tracing::warn!(%error, "cannot sample the queue for /metrics"),
            Err(_) => tracing::warn!("sampling the queue for /metrics timed out"),
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = text::encode(&mut out, &self.registry);
        out
    }
}

/// Decrements the open-streams gauge when the stream ends.
pub struct StreamGuard(Gauge);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Decrements the running-workers gauge when the worker ends.
pub struct WorkerGuard(Gauge);

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}
