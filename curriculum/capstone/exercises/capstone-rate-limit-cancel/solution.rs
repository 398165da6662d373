//! Step 2 of the capstone: rate limiting, per-job cancellation and a
//! graceful shutdown that drains in-flight jobs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

type BoxJob = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A queued job and the token that cancels it.
struct Queued {
    run: BoxJob,
    token: CancellationToken,
}

/// Why a job produced no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// The job panicked.
    Failed,
    /// The job was cancelled (by its handle, or by shutdown) before it finished.
    Cancelled,
    /// The job was submitted after shutdown started.
    ShuttingDown,
}

/// The submitter's side of one job.
pub struct JobHandle<T> {
    rx: oneshot::Receiver<Result<T, JobError>>,
    token: CancellationToken,
}

impl<T> JobHandle<T> {
    /// Cancels the job: if it is still queued it never starts, if it is
    /// running its future is dropped at its next `.await`.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Waits for the job's output.
    pub async fn result(self) -> Result<T, JobError> {
        match self.rx.await {
            Ok(r) => r,
            // The job was dropped without sending: cancelled while queued,
            // or it panicked.
            Err(_) if self.token.is_cancelled() => Err(JobError::Cancelled),
            Err(_) => Err(JobError::Failed),
        }
    }
}

/// Runs jobs in FIFO order, at most `max_concurrent` at once, starting at most
/// one job per `min_start_interval`.
pub struct JobService {
    queue: mpsc::UnboundedSender<Queued>,
    /// Cancelled when shutdown starts: no new jobs are accepted or started.
    stopping: CancellationToken,
    /// Parent of every job's token: cancelled when the grace period runs out.
    abort: CancellationToken,
    tracker: TaskTracker,
}

impl JobService {
    /// Starts the service. Must be called inside a Tokio runtime.
    pub fn new(max_concurrent: usize, min_start_interval: Duration) -> Self {
        assert!(max_concurrent > 0, "max_concurrent must be at least 1");
        let (queue, mut rx) = mpsc::unbounded_channel::<Queued>();
        let permits = Arc::new(Semaphore::new(max_concurrent));
        let stopping = CancellationToken::new();
        let abort = CancellationToken::new();
        let tracker = TaskTracker::new();

        let stop = stopping.clone();
        let jobs = tracker.clone();
        tracker.spawn(async move {
            let mut next_start = Instant::now();
            loop {
                let job = tokio::select! {
                    biased;
                    _ = stop.cancelled() => break,
                    job = rx.recv() => match job {
                        Some(job) => job,
                        None => break,
                    },
                };
                if job.token.is_cancelled() {
                    continue; // cancelled while queued: drop it, costs no slot
                }
                // Rate limit, then wait for a slot; shutdown interrupts both.
                let permit = tokio::select! {
                    biased;
                    _ = stop.cancelled() => {
                        job.token.cancel();
                        break;
                    }
                    _ = job.token.cancelled() => continue,
                    permit = async {
                        sleep_until(next_start).await;
                        permits.clone().acquire_owned().await.expect("semaphore closed")
                    } => permit,
                };
                next_start = Instant::now() + min_start_interval;
                jobs.spawn(async move {
                    let _permit = permit;
                    job.run.await;
                });
            }
            // Shutdown: everything still queued is cancelled, never started.
            rx.close();
            while let Ok(job) = rx.try_recv() {
                job.token.cancel();
            }
        });
        JobService { queue, stopping, abort, tracker }
    }

    /// Queues `job` and returns a handle to its result.
    pub fn submit<F, T>(&self, job: F) -> JobHandle<T>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let token = self.abort.child_token();
        if self.stopping.is_cancelled() {
            let _ = tx.send(Err(JobError::ShuttingDown));
            return JobHandle { rx, token };
        }
        let job_token = token.clone();
        let run: BoxJob = Box::pin(async move {
            let out = tokio::select! {
                biased;
                _ = job_token.cancelled() => Err(JobError::Cancelled),
                out = job => Ok(out),
            };
            let _ = tx.send(out);
        });
        if let Err(rejected) = self.queue.send(Queued { run, token: token.clone() }) {
            // The dispatcher is gone (shutdown raced with us).
            rejected.0.token.cancel();
        }
        JobHandle { rx, token }
    }

    /// Graceful shutdown: stop accepting and starting jobs, cancel the queued
    /// ones, let running jobs finish for up to `grace`, then cancel them too.
    /// Returns when every job task has ended.
    pub async fn shutdown(&self, grace: Duration) {
        self.stopping.cancel();
        self.tracker.close();
        if timeout(grace, self.tracker.wait()).await.is_err() {
            self.abort.cancel();
            self.tracker.wait().await;
        }
    }
}
