//! Step 1 of the capstone: a job queue with bounded concurrency and a
//! per-job result delivered through a oneshot channel.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

/// A type-erased job: the user's future, already wired to send its result.
type BoxJob = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Why a job produced no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// The job panicked (or was otherwise dropped before finishing).
    Failed,
}

/// The submitter's side of one job.
pub struct JobHandle<T> {
    rx: oneshot::Receiver<T>,
}

impl<T> JobHandle<T> {
    /// Waits for the job's output.
    pub async fn result(self) -> Result<T, JobError> {
        self.rx.await.map_err(|_| JobError::Failed)
    }
}

/// Runs submitted jobs in submission order, at most `max_concurrent` at a time.
pub struct JobService {
    queue: mpsc::UnboundedSender<BoxJob>,
}

impl JobService {
    /// Starts the service. Must be called inside a Tokio runtime.
    pub fn new(max_concurrent: usize) -> Self {
        assert!(max_concurrent > 0, "max_concurrent must be at least 1");
        let (queue, mut rx) = mpsc::unbounded_channel::<BoxJob>();
        let permits = Arc::new(Semaphore::new(max_concurrent));
        // The dispatcher: takes jobs in FIFO order and starts each one as soon
        // as a permit is free. The permit moves into the job's task, so it is
        // released when the job finishes, panics or is dropped.
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let permit = permits.clone().acquire_owned().await.expect("semaphore closed");
                tokio::spawn(async move {
                    let _permit = permit;
                    job.await;
                });
            }
        });
        JobService { queue }
    }

    /// Queues `job` and returns a handle to its result.
    pub fn submit<F, T>(&self, job: F) -> JobHandle<T>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let wrapped: BoxJob = Box::pin(async move {
            let out = job.await;
            // The submitter may have dropped its handle: that is fine.
            let _ = tx.send(out);
        });
        // Sending fails only if the dispatcher is gone (runtime shutting down);
        // the handle then reports Failed because `tx` was dropped.
        let _ = self.queue.send(wrapped);
        JobHandle { rx }
    }
}
