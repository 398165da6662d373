use futures::{Stream, StreamExt};
use ready_batches_stream::*;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields 1, 2, then None, and panics if polled after ending.
struct Strict {
    next: u32,
    ended: bool,
}
impl Stream for Strict {
    type Item = u32;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<u32>> {
        assert!(!self.ended, "inner stream polled after it returned None");
        if self.next > 2 {
            self.ended = true;
            return Poll::Ready(None);
        }
        self.next += 1;
        Poll::Ready(Some(self.next - 1))
    }
}

#[tokio::test]
async fn inner_stream_is_not_polled_after_it_ended() {
    let mut s = ReadyBatches::new(Strict { next: 1, ended: false }, 5);
    assert_eq!(s.next().await, Some(vec![1, 2]));
    assert_eq!(s.next().await, None);
    assert_eq!(s.next().await, None);
}

#[tokio::test]
async fn max_one_gives_singletons() {
    let got: Vec<Vec<char>> = ReadyBatches::new(futures::stream::iter("abc".chars()), 1).collect().await;
    assert_eq!(got, vec![vec!['a'], vec!['b'], vec!['c']]);
}

#[tokio::test]
async fn empty_stream_ends_immediately() {
    let mut s = ReadyBatches::new(futures::stream::iter(Vec::<u8>::new()), 3);
    assert_eq!(s.next().await, None);
}

#[test]
#[should_panic]
fn zero_max_is_rejected() {
    let _ = ReadyBatches::new(futures::stream::iter(vec![1]), 0);
}

#[test]
fn pending_inner_stream_after_partial_batch() {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let mut task = tokio_test::task::spawn(ReadyBatches::new(tokio_stream::wrappers::ReceiverStream::new(rx), 3));
    for i in 0..5 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(task.poll_next(), Poll::Ready(Some(vec![0, 1, 2])));
    assert_eq!(task.poll_next(), Poll::Ready(Some(vec![3, 4])));
    assert!(task.poll_next().is_pending());
    drop(tx);
    assert!(task.is_woken(), "closing the channel should wake the task");
    assert_eq!(task.poll_next(), Poll::Ready(None));
}
