use std::future::Future;
use std::pin::Pin;

pub type Job = Pin<Box<dyn Future<Output = u64> + Send + 'static>>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobPanicked {
    /// Index of the job in the input vector.
    pub job: usize,
    /// The panic message, or "<non-string panic>".
    pub message: String,
}

/// Runs every job as its own task and returns the sum of their outputs.
pub async fn run_batch(jobs: Vec<Job>) -> Result<u64, JobPanicked> {
    let handles: Vec<_> = jobs.into_iter().map(tokio::spawn).collect();
    let mut total = 0;
    for h in handles {
        if let Ok(v) = h.await {
            total += v;
        }
    }
    Ok(total)
}
