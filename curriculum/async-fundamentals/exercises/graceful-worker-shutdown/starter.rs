use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: u32,
    pub cost: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShutdownError {
    GraceExpired,
    WorkerPanicked,
}

/// Processes jobs until the token is cancelled or the channel closes.
/// Returns the number of completed jobs.
pub async fn worker(
    token: CancellationToken,
    mut jobs: mpsc::Receiver<Job>,
    done: mpsc::UnboundedSender<u32>,
) -> usize {
    let _ = token; // TODO: stop taking jobs once cancelled
    let mut completed = 0;
    while let Some(job) = jobs.recv().await {
        tokio::time::sleep(job.cost).await;
        let _ = done.send(job.id);
        completed += 1;
    }
    completed
}

/// Cancels the token and waits up to `grace` for the worker.
pub async fn shutdown(
    token: CancellationToken,
    worker: JoinHandle<usize>,
    grace: Duration,
) -> Result<usize, ShutdownError> {
    let _ = (token, worker, grace);
    todo!("cancel, wait with a timeout, abort on expiry")
}
