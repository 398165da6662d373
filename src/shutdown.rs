//! Graceful shutdown as one small type, passed to everything that runs
//! until the process stops: the web server, the grading pool and the event
//! hub (its listener and every open event stream).
//!
//! A [`Shutdown`] is a cloneable handle on one shared
//! [`CancellationToken`]: any holder may begin the shutdown
//! ([`Shutdown::cancel`]), and every task waits for it with
//! [`Shutdown::cancelled`] in a `select!` beside its own work. Nothing else
//! signals "stop" (no watch channels, no oneshots, no polling whether the
//! database pool is closed), so every long-running task stops the same way,
//! and a test stops the app exactly as Ctrl-C does.
//!
//! Tasks that work for something shorter-lived than the process (a job's
//! lease renewer, a page's event filter) are held in an [`AbortOnDrop`]
//! instead: they end when their owner is dropped, cancelled or not.

use std::future::Future;

use tokio_util::sync::CancellationToken;

/// A handle on the one shutdown of an application (cheap to clone).
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    /// A shutdown that has not begun.
    pub fn new() -> Self {
        Self::default()
    }

    /// Begins the shutdown: every task waiting in [`Shutdown::cancelled`]
    /// wakes. Calling it again does nothing.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether the shutdown has begun.
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once the shutdown has begun (at once if it already has).
    pub async fn cancelled(&self) {
        self.token.cancelled().await;
    }

    /// Begins the shutdown on SIGINT (Ctrl-C) or SIGTERM; the returned task
    /// ends once either arrives or the shutdown began some other way.
    ///
    /// The signals are caught from the moment this returns, not from when
    /// the task first runs: until then a SIGTERM would still have its
    /// default action and kill the process mid-start (with a private
    /// PostgreSQL half made or left running). Call it inside the runtime.
    pub fn on_signals(&self) -> tokio::task::JoinHandle<()> {
        let signals = Signals::listen();
        let shutdown = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = signals.recv() => shutdown.cancel(),
                () = shutdown.cancelled() => {}
            }
        })
    }
}

/// SIGINT (Ctrl-C) and SIGTERM, caught from the moment this is made.
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn listen() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind: SignalKind, name: &str| {
            signal(kind)
                .inspect_err(|error| tracing::warn!(%error, "cannot listen for {name}"))
                .ok()
        };
        Self {
            interrupt: listen(SignalKind::interrupt(), "SIGINT"),
            terminate: listen(SignalKind::terminate(), "SIGTERM"),
        }
    }

    /// Resolves on the first of them.
    async fn recv(mut self) {
        async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = next(&mut self.interrupt) => {}
            () = next(&mut self.terminate) => {}
        }
    }
}

/// A task owned by whoever holds this: dropping it aborts the task, so a
/// task cannot outlive the job, page or pool it works for (tokio's own
/// `JoinHandle` detaches on drop instead).
#[derive(Debug)]
pub struct AbortOnDrop<T = ()>(tokio::task::JoinHandle<T>);

impl<T: Send + 'static> AbortOnDrop<T> {
    /// Spawns `task` on the runtime, owned by the returned guard.
    pub fn spawn(task: impl Future<Output = T> + Send + 'static) -> Self {
        Self(tokio::spawn(task))
    }

    /// Waits for the task to end on its own (or to have panicked).
    pub async fn finished(&mut self) {
        let _ = (&mut self.0).await;
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn every_clone_sees_one_cancel() {
        let shutdown = Shutdown::new();
        let waiter = shutdown.clone();
        let waiting = tokio::spawn(async move { waiter.cancelled().await });
        assert!(!shutdown.is_cancelled());
        shutdown.clone().cancel();
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("the waiter wakes")
            .unwrap();
        assert!(shutdown.is_cancelled());
    }

    #[tokio::test]
    async fn a_dropped_guard_aborts_its_task() {
        // The task holds the sender; aborting the task drops it.
        let (sender, receiver) = tokio::sync::oneshot::channel::<()>();
        let guard = AbortOnDrop::spawn(async move {
            let _sender = sender;
            std::future::pending::<()>().await
        });
        drop(guard);
        let outcome = tokio::time::timeout(Duration::from_secs(1), receiver)
            .await
            .expect("the task ends at once");
        assert!(outcome.is_err(), "the task was aborted, not finished");
    }
}
