use futures::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Groups items that are already available into batches of at most `max`.
pub struct ReadyBatches<S> {
    inner: S,
    max: usize,
    done: bool,
}

impl<S: Stream + Unpin> ReadyBatches<S> {
    pub fn new(inner: S, max: usize) -> Self {
        assert!(max > 0, "max must be at least 1");
        ReadyBatches { inner, max, done: false }
    }
}

impl<S: Stream + Unpin> Stream for ReadyBatches<S> {
    type Item = Vec<S::Item>;

    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // TODO: poll `self.inner` (use `Pin::new(&mut self.inner)`; declare `mut self`)
        let _ = (self.max, self.done);
        Poll::Ready(None)
    }
}
