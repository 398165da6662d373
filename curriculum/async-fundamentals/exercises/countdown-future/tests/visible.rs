use countdown_future::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

struct CountingWaker(AtomicUsize);
impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Runs `f` on another thread and fails (instead of hanging) after 2 s.
fn within_2s<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(2)) {
        Ok(v) => v,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "{what}: block_on did not return within 2 s; is it waiting for a wake-up that never comes?"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: block_on panicked (see output above)"),
    }
}

#[test]
fn countdown_is_pending_n_times_and_wakes_each_time() {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);
    let mut cd = Countdown::new(3);
    for i in 1..=3 {
        assert_eq!(Pin::new(&mut cd).poll(&mut cx), Poll::Pending, "poll #{i} of Countdown::new(3) should be Pending");
        assert_eq!(
            counter.0.load(Ordering::SeqCst),
            i,
            "after {i} Pending polls the waker should have been woken {i} times: returning Pending without waking means no executor will ever poll again"
        );
    }
    assert_eq!(Pin::new(&mut cd).poll(&mut cx), Poll::Ready("liftoff"), "poll #4 of Countdown::new(3) should be Ready");
}

#[test]
fn countdown_zero_is_ready_immediately() {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&counter));
    let mut cx = Context::from_waker(&waker);
    let mut cd = Countdown::new(0);
    assert_eq!(Pin::new(&mut cd).poll(&mut cx), Poll::Ready("liftoff"));
    assert_eq!(counter.0.load(Ordering::SeqCst), 0, "a future that is Ready should not wake itself");
}

#[tokio::test(start_paused = true)]
async fn countdown_runs_on_tokio() {
    let out = tokio::time::timeout(Duration::from_secs(1), Countdown::new(5)).await;
    assert_eq!(
        out,
        Ok("liftoff"),
        "tokio never polled the Countdown to completion: after a Pending it only polls again once the waker is woken"
    );
}

#[test]
fn block_on_runs_an_async_block() {
    let v = within_2s("block_on(async { 20 + 22 })", || block_on(async { 20 + 22 }));
    assert_eq!(v, 42);
}
