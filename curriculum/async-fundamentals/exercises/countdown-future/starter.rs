use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that is `Pending` `n` times, then `Ready("liftoff")`.
pub struct Countdown {
    remaining: u32,
}

impl Countdown {
    pub fn new(n: u32) -> Self {
        Countdown { remaining: n }
    }
}

impl Future for Countdown {
    type Output = &'static str;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Countdown` is `Unpin`, so `self.remaining` can be read and written
        // through the `Pin<&mut Self>` directly (declare it `mut self`).
        todo!("count down, waking the task each time you return Pending")
    }
}

/// Drive `fut` to completion on the current thread, parking between polls.
pub fn block_on<F: Future>(fut: F) -> F::Output {
    let _ = fut;
    todo!("pin the future, build a Waker with std::task::Wake, poll in a loop, park when Pending")
}
