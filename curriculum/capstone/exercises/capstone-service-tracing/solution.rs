//! Capstone stage 3: traces and overload. Every job runs in its own root
//! span with events for queued, started and finished; refused work is logged
//! with the reason; connections beyond a limit are told `overloaded`.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{FutureExt, SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::{Instant, timeout};
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span, info, info_span, warn};

/// Jobs are numbered from 1 in submission order.
pub type JobId = u64;

/// One request line from a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Queue a job; `timeout_ms` overrides the service's default timeout.
    Submit {
        payload: String,
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
    /// Ask for a job's state.
    Status { id: JobId },
    /// Cancel a queued or running job.
    Cancel { id: JobId },
}

/// Where a job is in its life. The last four are terminal: once a job
/// reaches one, its state never changes again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded(String),
    Failed(String),
    TimedOut,
    Cancelled,
}

impl JobState {
    pub fn is_terminal(&self) -> bool {
        !matches!(self, JobState::Queued | JobState::Running)
    }

    /// The name used in traces (the `outcome` field).
    pub fn name(&self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded(_) => "succeeded",
            JobState::Failed(_) => "failed",
            JobState::TimedOut => "timed_out",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// Why the service refused work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// The job queue is full: retry later.
    QueueFull,
    /// Too many open connections: this one is closed.
    Overloaded,
}

/// One reply line to a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Response {
    Accepted { id: JobId },
    Status { id: JobId, state: JobState },
    Rejected { reason: Rejection },
    Error { message: String },
}

/// What a job returns: its output, or an error message.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<String, String>> + Send>>;

/// Turns a job's payload into the work to do. Supplied by whoever runs the
/// service (the tests supply their own).
pub type Handler = Arc<dyn Fn(String) -> JobFuture + Send + Sync>;

/// Wraps an async function as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, String>> + Send + 'static,
{
    Arc::new(move |payload| Box::pin(f(payload)))
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Jobs running at once.
    pub workers: usize,
    /// Jobs waiting to run; a submit beyond this is rejected with `queue_full`.
    pub queue_capacity: usize,
    /// Longest request line, in bytes.
    pub max_line: usize,
    /// Timeout of a job that does not ask for its own.
    pub default_timeout: Duration,
    /// Connections served at once; one more is told `overloaded` and closed.
    pub max_connections: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            workers: 2,
            queue_capacity: 8,
            max_line: 4096,
            default_timeout: Duration::from_secs(30),
            max_connections: 64,
        }
    }
}

/// A job waiting in the queue.
struct Queued {
    id: JobId,
    payload: String,
    timeout: Duration,
    token: CancellationToken,
    span: Span,
    submitted: Instant,
}

/// A job's entry in the job table.
struct Job {
    state: JobState,
    /// Cancels the job: the dispatcher skips it, or its task drops it.
    token: CancellationToken,
    /// The job's span, for the `job finished` event whoever settles it.
    span: Span,
}

struct Inner {
    config: Config,
    handler: Handler,
    queue: mpsc::Sender<Queued>,
    /// A std mutex: every critical section is short and never awaits.
    jobs: Mutex<HashMap<JobId, Job>>,
    next_id: AtomicU64,
    /// One permit per open connection.
    connections: Arc<Semaphore>,
}

impl Inner {
    /// Moves a job to a terminal state unless it already has one: the first
    /// terminal state wins. Check and write happen under one lock, so a
    /// cancel and a job finishing at the same moment cannot overwrite each
    /// other. Returns whether this call set the state.
    fn settle(&self, id: JobId, state: JobState) -> bool {
        let span = {
            let mut jobs = self.jobs.lock().unwrap();
            let Some(job) = jobs.get_mut(&id) else { return false };
            if job.state.is_terminal() {
                return false;
            }
            job.state = state.clone();
            job.span.clone()
        };
        // Outside the lock: a subscriber may be slow, the table must not wait.
        let outcome = state.name();
        span.record("outcome", outcome);
        span.in_scope(|| match state {
            JobState::Succeeded(_) | JobState::Cancelled => info!(outcome, "job finished"),
            _ => warn!(outcome, "job finished"),
        });
        true
    }

    /// Queued -> Running; false if the job was cancelled while queued.
    fn start(&self, id: JobId) -> bool {
        let mut jobs = self.jobs.lock().unwrap();
        match jobs.get_mut(&id) {
            Some(job) if job.state == JobState::Queued => {
                job.state = JobState::Running;
                true
            }
            _ => false,
        }
    }

    fn state(&self, id: JobId) -> Option<JobState> {
        self.jobs.lock().unwrap().get(&id).map(|job| job.state.clone())
    }
}

/// The job service: a bounded queue, `workers` jobs at a time, a job table,
/// and a line-delimited JSON front. Cheap to clone.
#[derive(Clone)]
pub struct JobService {
    inner: Arc<Inner>,
}

impl JobService {
    /// Starts the service's dispatcher. Must be called inside a Tokio runtime.
    pub fn start(config: Config, handler: Handler) -> JobService {
        assert!(config.workers > 0 && config.queue_capacity > 0, "workers and queue_capacity must be at least 1");
        let (queue, rx) = mpsc::channel(config.queue_capacity);
        let inner = Arc::new(Inner {
            connections: Arc::new(Semaphore::new(config.max_connections)),
            config,
            handler,
            queue,
            jobs: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        });
        tokio::spawn(dispatch(inner.clone(), rx));
        JobService { inner }
    }

    /// Answers one request. Never waits: a full queue is a rejection.
    pub fn handle(&self, request: Request) -> Response {
        match request {
            Request::Submit { payload, timeout_ms } => self.submit(payload, timeout_ms),
            Request::Status { id } => match self.inner.state(id) {
                Some(state) => Response::Status { id, state },
                None => unknown(id),
            },
            Request::Cancel { id } => {
                let token = match self.inner.jobs.lock().unwrap().get(&id) {
                    Some(job) => job.token.clone(),
                    None => return unknown(id),
                };
                if self.inner.settle(id, JobState::Cancelled) {
                    // A running job's future is dropped by its task's select;
                    // a queued one is skipped by the dispatcher.
                    token.cancel();
                }
                // Cancelled, or the terminal state the job had already reached.
                let state = self.inner.state(id).expect("jobs are never removed");
                Response::Status { id, state }
            }
        }
    }

    fn submit(&self, payload: String, timeout_ms: Option<u64>) -> Response {
        let inner = &self.inner;
        // Reserve the queue slot first: a full queue is refused at once (no
        // waiting, no unbounded buffer) and leaves no trace in the table.
        let Ok(slot) = inner.queue.try_reserve() else {
            warn!(reason = "queue_full", "submit rejected");
            return Response::Rejected { reason: Rejection::QueueFull };
        };
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        // A root span: the job outlives the request (and the connection)
        // that submitted it, so it must not be filed under them.
        let span = info_span!(parent: None, "job", job_id = id, outcome = tracing::field::Empty);
        let token = CancellationToken::new();
        let job = Job { state: JobState::Queued, token: token.clone(), span: span.clone() };
        // In the table before the dispatcher can see it, so it can only move
        // Queued -> Running, never the other way round.
        inner.jobs.lock().unwrap().insert(id, job);
        let timeout = timeout_ms.map_or(inner.config.default_timeout, Duration::from_millis);
        slot.send(Queued { id, payload, timeout, token, span: span.clone(), submitted: Instant::now() });
        let queue_depth = inner.queue.max_capacity() - inner.queue.capacity();
        span.in_scope(|| info!(queue_depth, "job queued"));
        Response::Accepted { id }
    }

    /// Serves one client: one JSON request per line, one JSON reply line
    /// each, until the client closes or sends an overlong line. Past
    /// `max_connections` open connections, answers `overloaded` and closes.
    pub async fn serve_connection<T>(&self, io: T)
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        let max_line = self.inner.config.max_line;
        // The codec bounds the line: without a maximum, a client that never
        // sends '\n' makes the read buffer grow until memory runs out.
        let mut lines = Framed::new(io, LinesCodec::new_with_max_length(max_line));
        // Held until this connection ends. Past the limit, answer at once and
        // close: cheaper for both sides than a connection nobody serves.
        let Ok(_connection) = self.inner.connections.clone().try_acquire_owned() else {
            warn!(reason = "overloaded", "connection refused");
            let _ = lines.send(encode(&Response::Rejected { reason: Rejection::Overloaded })).await;
            return;
        };
        while let Some(line) = lines.next().await {
            let reply = match line {
                Ok(line) => match serde_json::from_str::<Request>(&line) {
                    Ok(request) => self.handle(request),
                    // A bad line is the client's mistake: say so and carry on.
                    Err(e) => Response::Error { message: format!("bad request: {e}") },
                },
                Err(LinesCodecError::MaxLineLengthExceeded) => {
                    let too_long = Response::Error { message: format!("line longer than {max_line} bytes") };
                    let _ = lines.send(encode(&too_long)).await;
                    return;
                }
                Err(LinesCodecError::Io(_)) => return,
            };
            // `send` waits until the reply is written: a client that does not
            // read stops being read (backpressure), nothing piles up here.
            if lines.send(encode(&reply)).await.is_err() {
                return;
            }
        }
    }

    /// Accepts connections forever, each served on its own task.
    pub async fn serve(&self, listener: TcpListener) {
        loop {
            // A failed accept (a reset before accept, out of descriptors) is
            // not fatal to the server.
            if let Ok((stream, _peer)) = listener.accept().await {
                let svc = self.clone();
                tokio::spawn(async move { svc.serve_connection(stream).await });
            }
        }
    }
}

fn unknown(id: JobId) -> Response {
    Response::Error { message: format!("unknown job {id}") }
}

/// One reply as a JSON line (without the newline; the codec adds it).
pub fn encode(response: &Response) -> String {
    serde_json::to_string(response).expect("a Response always serializes")
}

/// Takes a worker slot, then the next job, and starts it on its own task. A
/// job is only taken off the queue when a slot is free, so the queue holds
/// exactly the jobs that wait.
async fn dispatch(inner: Arc<Inner>, mut rx: mpsc::Receiver<Queued>) {
    let slots = Arc::new(Semaphore::new(inner.config.workers));
    loop {
        let slot = slots.clone().acquire_owned().await.expect("never closed");
        let Some(job) = rx.recv().await else { return };
        if inner.start(job.id) {
            tokio::spawn(run_job(inner.clone(), job, slot));
        } // else: cancelled while queued; dropping `slot` frees it at once
    }
}

/// Runs one job under its timeout and its cancellation token; its slot is
/// released when this task ends.
async fn run_job(inner: Arc<Inner>, job: Queued, _slot: OwnedSemaphorePermit) {
    let span = job.span.clone();
    // `instrument` enters the span on every poll and leaves it at every
    // `.await`: whatever the job logs is filed under it, and nothing else is.
    async move {
        info!(waited_ms = job.submitted.elapsed().as_millis() as u64, "job started");
        // A panic in the job is caught here, so it becomes `failed` instead
        // of a task that silently died with the job stuck in `running`.
        let work = AssertUnwindSafe((inner.handler)(job.payload)).catch_unwind();
        let state = tokio::select! {
            biased;
            // Returning from this branch drops `work`: that is what cancels
            // the job, at whatever `.await` it was waiting on.
            _ = job.token.cancelled() => JobState::Cancelled,
            done = timeout(job.timeout, work) => match done {
                Err(_elapsed) => JobState::TimedOut,
                Ok(Err(_panic)) => JobState::Failed("job panicked".to_string()),
                Ok(Ok(Ok(output))) => JobState::Succeeded(output),
                Ok(Ok(Err(error))) => JobState::Failed(error),
            },
        };
        // A no-op if a cancel got there first.
        inner.settle(job.id, state);
    }
    .instrument(span)
    .await
}
