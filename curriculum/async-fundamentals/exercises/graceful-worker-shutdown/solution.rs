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
    let mut completed = 0;
    loop {
        // Only wait for the *next* job under select!: both branches are cancel
        // safe, and `biased` makes shutdown win when both are ready.
        let job = tokio::select! {
            biased;
            _ = token.cancelled() => break,
            job = jobs.recv() => match job {
                Some(job) => job,
                None => break,
            },
        };
        // The job in hand is finished regardless of the token.
        tokio::time::sleep(job.cost).await;
        let _ = done.send(job.id);
        completed += 1;
    }
    completed
}

/// Cancels the token and waits up to `grace` for the worker.
pub async fn shutdown(
    token: CancellationToken,
    mut worker: JoinHandle<usize>,
    grace: Duration,
) -> Result<usize, ShutdownError> {
    token.cancel();
    match tokio::time::timeout(grace, &mut worker).await {
        Ok(Ok(count)) => Ok(count),
        Ok(Err(_join_error)) => Err(ShutdownError::WorkerPanicked),
        Err(_elapsed) => {
            worker.abort();
            let _ = worker.await; // wait until it is really gone
            Err(ShutdownError::GraceExpired)
        }
    }
}
