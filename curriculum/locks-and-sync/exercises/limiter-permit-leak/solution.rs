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
        // The permit is a guard: dropping it (success, error, panic or
        // cancellation of this future) returns the slot.
        let _permit = self.sem.acquire().await.expect("limiter closed");
        job.await
    }
}
