//! Step 3 of the capstone: job statuses in a store with optimistic locking.
//!
//! The service from step 2 now records every job's lifecycle
//! (Queued -> Running -> Succeeded | Failed | Cancelled) in a `JobStore`.
//! Writers never hold a lock across a round trip to the store; instead each
//! record carries a version number and `update` is a compare-and-swap.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

// ---------------------------------------------------------------- the store

pub type JobId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl Status {
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Succeeded | Status::Failed | Status::Cancelled)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub status: Status,
    /// Starts at 1 and grows by exactly 1 with every successful update.
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    NotFound,
    /// Someone else updated the record since you read it.
    Conflict { current: Record },
    /// Terminal statuses are final.
    Illegal { from: Status, to: Status },
}

/// Job records, as a database would keep them. `write_latency` simulates the
/// round trip of persisting a write.
pub struct JobStore {
    records: Mutex<HashMap<JobId, Record>>,
    next_id: AtomicU64,
    write_latency: Duration,
}

impl JobStore {
    pub fn new(write_latency: Duration) -> Self {
        JobStore { records: Mutex::new(HashMap::new()), next_id: AtomicU64::new(1), write_latency }
    }

    /// Creates a `Queued` record at version 1.
    pub fn create(&self) -> JobId {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        self.records.lock().unwrap().insert(id, Record { status: Status::Queued, version: 1 });
        id
    }

    pub fn get(&self, id: JobId) -> Option<Record> {
        self.records.lock().unwrap().get(&id).copied()
    }

    /// Compare-and-swap: sets `status` if the record is still at
    /// `expected_version`, and returns the new record.
    pub async fn update(&self, id: JobId, expected_version: u64, status: Status) -> Result<Record, StoreError> {
        let new = {
            // Check and write under one lock acquisition: no other update can
            // slip in between. The guard is dropped before any `.await`.
            let mut records = self.records.lock().unwrap();
            let rec = records.get_mut(&id).ok_or(StoreError::NotFound)?;
            if rec.version != expected_version {
                return Err(StoreError::Conflict { current: *rec });
            }
            if rec.status.is_terminal() {
                return Err(StoreError::Illegal { from: rec.status, to: status });
            }
            *rec = Record { status, version: rec.version + 1 };
            *rec
        };
        sleep(self.write_latency).await; // persist
        Ok(new)
    }

    /// Read-modify-write with retries: `decide` sees the current status and
    /// returns the new one, or `None` to leave the record alone.
    /// Returns the record that was written, or `None` if nothing was written.
    pub async fn transition(
        &self,
        id: JobId,
        decide: impl Fn(Status) -> Option<Status>,
    ) -> Result<Option<Record>, StoreError> {
        loop {
            let current = self.get(id).ok_or(StoreError::NotFound)?;
            let Some(next) = decide(current.status) else {
                return Ok(None);
            };
            match self.update(id, current.version, next).await {
                Ok(rec) => return Ok(Some(rec)),
                Err(StoreError::Conflict { .. }) => continue, // re-read and decide again
                Err(e) => return Err(e),
            }
        }
    }
}

// -------------------------------------------------------------- the service

type BoxJob = Pin<Box<dyn Future<Output = Outcome> + Send + 'static>>;

enum Outcome {
    Done,
    Cancelled,
}

struct Queued {
    id: JobId,
    run: BoxJob,
    token: CancellationToken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    Failed,
    Cancelled,
    ShuttingDown,
}

pub struct JobHandle<T> {
    id: JobId,
    rx: oneshot::Receiver<Result<T, JobError>>,
    token: CancellationToken,
}

impl<T> JobHandle<T> {
    pub fn id(&self) -> JobId {
        self.id
    }

    pub fn cancel(&self) {
        self.token.cancel();
    }

    pub async fn result(self) -> Result<T, JobError> {
        match self.rx.await {
            Ok(r) => r,
            Err(_) if self.token.is_cancelled() => Err(JobError::Cancelled),
            Err(_) => Err(JobError::Failed),
        }
    }
}

/// Marks a job finished, unless it already reached a terminal status.
async fn finish(store: &JobStore, id: JobId, to: Status) {
    let _ = store.transition(id, |s| if s.is_terminal() { None } else { Some(to) }).await;
}

pub struct JobService {
    queue: mpsc::UnboundedSender<Queued>,
    stopping: CancellationToken,
    abort: CancellationToken,
    tracker: TaskTracker,
    store: Arc<JobStore>,
}

impl JobService {
    pub fn new(max_concurrent: usize, min_start_interval: Duration, store: Arc<JobStore>) -> Self {
        assert!(max_concurrent > 0, "max_concurrent must be at least 1");
        let (queue, mut rx) = mpsc::unbounded_channel::<Queued>();
        let permits = Arc::new(Semaphore::new(max_concurrent));
        let stopping = CancellationToken::new();
        let abort = CancellationToken::new();
        let tracker = TaskTracker::new();

        let stop = stopping.clone();
        let jobs = tracker.clone();
        let st = store.clone();
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
                    finish(&st, job.id, Status::Cancelled).await;
                    continue;
                }
                let permit = tokio::select! {
                    biased;
                    _ = stop.cancelled() => {
                        job.token.cancel();
                        finish(&st, job.id, Status::Cancelled).await;
                        break;
                    }
                    _ = job.token.cancelled() => {
                        finish(&st, job.id, Status::Cancelled).await;
                        continue;
                    }
                    permit = async {
                        sleep_until(next_start).await;
                        permits.clone().acquire_owned().await.expect("semaphore closed")
                    } => permit,
                };
                next_start = Instant::now() + min_start_interval;
                let st = st.clone();
                jobs.spawn(async move {
                    let _permit = permit;
                    let Queued { id, run, .. } = job;
                    let _ = st.transition(id, |s| (s == Status::Queued).then_some(Status::Running)).await;
                    // A separate task so that a panic is reported as Failed.
                    let status = match tokio::spawn(run).await {
                        Ok(Outcome::Done) => Status::Succeeded,
                        Ok(Outcome::Cancelled) => Status::Cancelled,
                        Err(_) => Status::Failed,
                    };
                    finish(&st, id, status).await;
                });
            }
            rx.close();
            while let Ok(job) = rx.try_recv() {
                job.token.cancel();
                finish(&st, job.id, Status::Cancelled).await;
            }
        });
        JobService { queue, stopping, abort, tracker, store }
    }

    pub fn submit<F, T>(&self, job: F) -> JobHandle<T>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let id = self.store.create();
        let (tx, rx) = oneshot::channel();
        let token = self.abort.child_token();
        if self.stopping.is_cancelled() {
            let _ = tx.send(Err(JobError::ShuttingDown));
            token.cancel();
            return JobHandle { id, rx, token };
        }
        let job_token = token.clone();
        let run: BoxJob = Box::pin(async move {
            tokio::select! {
                biased;
                _ = job_token.cancelled() => {
                    let _ = tx.send(Err(JobError::Cancelled));
                    Outcome::Cancelled
                }
                out = job => {
                    let _ = tx.send(Ok(out));
                    Outcome::Done
                }
            }
        });
        if let Err(rejected) = self.queue.send(Queued { id, run, token: token.clone() }) {
            rejected.0.token.cancel();
        }
        JobHandle { id, rx, token }
    }

    pub async fn shutdown(&self, grace: Duration) {
        self.stopping.cancel();
        self.tracker.close();
        if timeout(grace, self.tracker.wait()).await.is_err() {
            self.abort.cancel();
            self.tracker.wait().await;
        }
    }
}
