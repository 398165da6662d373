//! Capstone stage 1: the job service's front. Clients speak line-delimited
//! JSON (one request per line, one reply line each) over any byte stream;
//! submitted jobs wait in a bounded queue that refuses work when full.

// The stubs below do not use everything yet; delete this line when they do.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
#[allow(unused_imports)] // you will need it
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
#[allow(unused_imports)] // you will need these
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
#[allow(unused_imports)] // you will need these
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};

/// Jobs are numbered from 1 in submission order.
pub type JobId = u64;

/// One request line from a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Queue a job.
    Submit { payload: String },
    /// Ask for a job's state.
    Status { id: JobId },
}

/// Where a job is in its life. `Succeeded` and `Failed` are terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded(String),
    Failed(String),
}

/// Why the service refused work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejection {
    /// The job queue is full: retry later.
    QueueFull,
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
}

impl Default for Config {
    fn default() -> Self {
        Config { workers: 2, queue_capacity: 8, max_line: 4096 }
    }
}

/// A job waiting in the queue.
struct Queued {
    id: JobId,
    payload: String,
}

struct Inner {
    config: Config,
    handler: Handler,
    queue: mpsc::Sender<Queued>,
    /// A std mutex: every critical section is short and never awaits.
    jobs: Mutex<HashMap<JobId, JobState>>,
    next_id: AtomicU64,
}

impl Inner {
    fn set(&self, id: JobId, state: JobState) {
        self.jobs.lock().unwrap().insert(id, state);
    }

    fn state(&self, id: JobId) -> Option<JobState> {
        self.jobs.lock().unwrap().get(&id).cloned()
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
        let inner =
            Arc::new(Inner { config, handler, queue, jobs: Mutex::new(HashMap::new()), next_id: AtomicU64::new(1) });
        tokio::spawn(dispatch(inner.clone(), rx));
        JobService { inner }
    }

    /// Answers one request. Never waits: a full queue is a rejection.
    ///
    /// `Submit`: a new id (1, 2, 3, ... in submission order), state `Queued`
    /// in the table, and the job on the queue; `Rejected { reason: QueueFull }`
    /// if the queue is full. `Status`: the job's state, or
    /// `Error { message: "unknown job <id>" }`.
    pub fn handle(&self, request: Request) -> Response {
        let _ = request;
        todo!("stage 1: answer submit and status")
    }

    /// Serves one client: one JSON request per line, one JSON reply line
    /// each, until the client closes or sends an overlong line.
    pub async fn serve_connection<T>(&self, io: T)
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        let _ = io;
        todo!("stage 1: frame the stream into lines, parse each request, reply with `encode`")
    }

    /// Accepts connections forever, each served on its own task.
    pub async fn serve(&self, listener: TcpListener) {
        let _ = listener;
        todo!("stage 1: accept connections, serve each on its own task")
    }
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
        inner.set(job.id, JobState::Running);
        tokio::spawn(run_job(inner.clone(), job, slot));
    }
}

/// Runs one job; its slot is released when this task ends.
async fn run_job(inner: Arc<Inner>, job: Queued, _slot: OwnedSemaphorePermit) {
    // A panic in the job is caught here, so it becomes `failed` instead of a
    // task that silently died with the job stuck in `running`.
    let state = match AssertUnwindSafe((inner.handler)(job.payload)).catch_unwind().await {
        Ok(Ok(output)) => JobState::Succeeded(output),
        Ok(Err(error)) => JobState::Failed(error),
        Err(_panic) => JobState::Failed("job panicked".to_string()),
    };
    inner.set(job.id, state);
}
