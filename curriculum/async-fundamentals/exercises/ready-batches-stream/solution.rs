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

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None); // never poll the inner stream after it ended
        }
        // The batch can be a local: we never return Pending while holding items.
        let mut batch = Vec::new();
        while batch.len() < self.max {
            match Pin::new(&mut self.inner).poll_next(cx) {
                Poll::Ready(Some(item)) => batch.push(item),
                Poll::Ready(None) => {
                    self.done = true;
                    break;
                }
                // The inner stream registered cx's waker; if we have nothing to
                // hand out, returning Pending is safe: we will be woken.
                Poll::Pending => break,
            }
        }
        if !batch.is_empty() {
            Poll::Ready(Some(batch))
        } else if self.done {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}
