use countdown_future::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

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
fn block_on_drives_a_countdown() {
    let v = within_2s("block_on(Countdown::new(10))", || block_on(Countdown::new(10)));
    assert_eq!(v, "liftoff");
}

#[test]
fn block_on_is_woken_from_another_thread() {
    let v = within_2s("block_on(oneshot receiver)", || {
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            tx.send(7).unwrap();
        });
        block_on(rx)
    });
    assert_eq!(v, Ok(7));
}

/// Wraps a future and counts how often it is polled.
struct CountPolls<F> {
    inner: Pin<Box<F>>,
    polls: Arc<AtomicUsize>,
}
impl<F: Future> Future for CountPolls<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        self.inner.as_mut().poll(cx)
    }
}

#[test]
fn block_on_parks_instead_of_spinning() {
    let polls = Arc::new(AtomicUsize::new(0));
    let p = Arc::clone(&polls);
    let v = within_2s("block_on(slow oneshot)", move || {
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            tx.send("late").unwrap();
        });
        block_on(CountPolls { inner: Box::pin(rx), polls: p })
    });
    assert_eq!(v, Ok("late"));
    let n = polls.load(Ordering::SeqCst);
    assert!(
        n <= 5,
        "the future was polled {n} times while nothing woke it: block_on should park the thread until the waker is called, not busy-poll"
    );
}
