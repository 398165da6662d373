use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::sleep;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// No such user.
    NotFound(u64),
    /// A service is down.
    Unavailable(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub name: String,
    pub orders: Vec<u32>,
    pub unread: u32,
}

/// Three independent backend services (simulated).
pub struct Backend {
    orders_down: bool,
    finished: AtomicUsize,
}

impl Backend {
    /// Every service up.
    pub fn new() -> Self {
        Backend { orders_down: false, finished: AtomicUsize::new(0) }
    }

    /// The orders service fails fast: `Unavailable("orders")` after 50 ms.
    pub fn with_orders_down() -> Self {
        Backend { orders_down: true, finished: AtomicUsize::new(0) }
    }

    /// 200 ms. Users 1 to 100 exist and are called `user-<id>`; any other id
    /// gets `NotFound(id)` after the same 200 ms.
    pub async fn profile(&self, user: u64) -> Result<String, BackendError> {
        sleep(Duration::from_millis(200)).await;
        self.finished.fetch_add(1, Ordering::SeqCst);
        if (1..=100).contains(&user) {
            Ok(format!("user-{user}"))
        } else {
            Err(BackendError::NotFound(user))
        }
    }

    /// 300 ms: the user's order numbers. When the service is down: 50 ms, then
    /// `Unavailable("orders")`.
    pub async fn orders(&self, user: u64) -> Result<Vec<u32>, BackendError> {
        if self.orders_down {
            sleep(Duration::from_millis(50)).await;
            self.finished.fetch_add(1, Ordering::SeqCst);
            return Err(BackendError::Unavailable("orders"));
        }
        sleep(Duration::from_millis(300)).await;
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(vec![user as u32 * 10, user as u32 * 10 + 1])
    }

    /// 100 ms; never fails.
    pub async fn unread(&self, user: u64) -> u32 {
        sleep(Duration::from_millis(100)).await;
        self.finished.fetch_add(1, Ordering::SeqCst);
        (user % 7) as u32
    }

    /// How many calls have run to completion (successfully or not).
    pub fn finished_calls(&self) -> usize {
        self.finished.load(Ordering::SeqCst)
    }
}

impl Default for Backend {
    fn default() -> Self {
        Backend::new()
    }
}

/// Builds the dashboard from the three calls, run concurrently. Returns the
/// first error as soon as any call fails, abandoning the others.
pub async fn dashboard(backend: &Backend, user: u64) -> Result<Dashboard, BackendError> {
    // All three futures are polled by this one task, taking turns at their
    // .await points; the first Err ends the whole thing and drops the rest.
    let (name, orders, unread) = tokio::try_join!(
        backend.profile(user),
        backend.orders(user),
        async { Ok::<_, BackendError>(backend.unread(user).await) },
    )?;
    Ok(Dashboard { name, orders, unread })
}
