//! A clock seam: a trait, a real clock, and a manual clock for tests.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
#[allow(unused_imports)]
use tokio::sync::watch;

/// Time as the code under test sees it: a duration since the clock's epoch.
pub trait Clock: Clone + Send + Sync + 'static {
    fn now(&self) -> Duration;
    /// Completes once `now()` has moved `d` past its value at the call.
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send + 'static;
}

/// The production clock, backed by tokio's timer.
#[derive(Clone)]
pub struct TokioClock {
    epoch: tokio::time::Instant,
}

impl TokioClock {
    pub fn new() -> Self {
        TokioClock { epoch: tokio::time::Instant::now() }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }
    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send + 'static {
        tokio::time::sleep(d)
    }
}

/// A clock that only moves when a test calls `advance`. Clones share one time.
///
/// TODO: choose the shared state. Hint: a `tokio::sync::watch` channel holds a
/// current value *and* lets waiters be woken when it changes.
#[derive(Clone)]
pub struct ManualClock {
    now: Arc<std::sync::Mutex<Duration>>,
}

impl ManualClock {
    /// A clock at time zero.
    pub fn new() -> Self {
        ManualClock { now: Arc::new(std::sync::Mutex::new(Duration::ZERO)) }
    }

    /// Moves time forward by `d`, waking every sleeper whose deadline is reached.
    pub fn advance(&self, d: Duration) {
        *self.now.lock().unwrap() += d;
        // TODO: wake the sleepers whose deadline has been reached
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *self.now.lock().unwrap()
    }

    fn sleep(&self, d: Duration) -> impl Future<Output = ()> + Send + 'static {
        let _ = d;
        // TODO: complete once `advance` has moved the clock `d` past the
        // time at which `sleep` was called.
        std::future::pending::<()>()
    }
}

/// A lease that must be renewed within `ttl`, or it expires.
pub struct Lease<C: Clock> {
    clock: C,
    ttl: Duration,
    renewed_at: Duration,
}

impl<C: Clock> Lease<C> {
    pub fn new(clock: C, ttl: Duration) -> Self {
        let renewed_at = clock.now();
        Lease { clock, ttl, renewed_at }
    }

    pub fn renew(&mut self) {
        self.renewed_at = self.clock.now();
    }

    pub fn is_valid(&self) -> bool {
        self.clock.now() < self.renewed_at + self.ttl
    }

    /// Renews the lease every `ttl / 2`, `times` times.
    pub async fn keep_alive(&mut self, times: u32) {
        for _ in 0..times {
            self.clock.sleep(self.ttl / 2).await;
            self.renew();
        }
    }
}
