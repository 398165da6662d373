use std::future::Future;
use tokio::sync::Semaphore;

/// Allows at most `max` calls to run concurrently.
pub struct Limiter {
    sem: Semaphore,
}

impl Limiter {
    pub fn new(max: usize) -> Self {
        Limiter { sem: Semaphore::new(max) }
    }

    /// Permits currently free.
    pub fn available(&self) -> usize {
        self.sem.available_permits()
    }

    /// Runs `job` once a slot is free and returns its result.
    pub async fn call<T, E>(&self, job: impl Future<Output = Result<T, E>>) -> Result<T, E> {
        // Take a slot. We give it back ourselves when the job is done.
        self.sem.acquire().await.expect("limiter closed").forget();

        let value = job.await?;

        // Job finished: free the slot for the next caller.
        self.sem.add_permits(1);
        Ok(value)
    }
}
