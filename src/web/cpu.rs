//! CPU-heavy work a request asks for — diffs and highlighting of learner
//! code — run off the async workers, a few at a time.
//!
//! Each piece of work is bounded on its own (size caps, a diff deadline, see
//! [`crate::progress::diff`] and [`crate::curriculum::highlight`]); this
//! bounds how many run at once, so a burst of such requests queues here
//! instead of occupying every blocking thread, and never stalls the tokio
//! workers that serve everyone else. A request that waits too long for a
//! turn is answered 503 rather than piling up.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::web::error::AppError;

/// How long a request waits for a turn before it is answered 503.
const WAIT_FOR_TURN: Duration = Duration::from_secs(5);

/// One turn per core: the work is CPU-bound, more at once only adds latency.
static TURNS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Arc::new(Semaphore::new(cores))
});

/// Runs `work` on the blocking pool once a turn is free.
pub async fn run<T, F>(work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let turn = tokio::time::timeout(WAIT_FOR_TURN, TURNS.clone().acquire_owned())
        .await
        .map_err(|_| AppError::Unavailable)?
        .map_err(|e| AppError::Internal(e.into()))?;
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))
}
