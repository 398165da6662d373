use futures::StreamExt;
use ready_batches_stream::*;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_stream::wrappers::ReceiverStream;

#[tokio::test]
async fn always_ready_stream_is_cut_into_batches_of_max() {
    let s = ReadyBatches::new(futures::stream::iter(1..=7), 3);
    let got: Vec<Vec<i32>> = s.collect().await;
    assert_eq!(got, vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]);
}

#[tokio::test(start_paused = true)]
async fn does_not_wait_to_fill_a_batch() {
    let (tx, rx) = mpsc::channel(16);
    let mut s = ReadyBatches::new(ReceiverStream::new(rx), 10);
    tx.send(1).await.unwrap();
    tx.send(2).await.unwrap();
    let first = timeout(Duration::from_secs(5), s.next())
        .await
        .expect("next() waited although 2 items were ready: a partial batch must be returned as soon as the inner stream is Pending");
    assert_eq!(first, Some(vec![1, 2]));
    tx.send(3).await.unwrap();
    drop(tx);
    assert_eq!(s.next().await, Some(vec![3]));
    assert_eq!(s.next().await, None);
}

#[test]
fn pending_when_nothing_is_ready_and_woken_when_an_item_arrives() {
    let (tx, rx) = mpsc::channel(16);
    let mut task = tokio_test::task::spawn(ReadyBatches::new(ReceiverStream::new(rx), 4));
    assert!(task.poll_next().is_pending(), "no item available yet: poll_next should return Pending");
    tx.try_send(42).unwrap();
    assert!(task.is_woken(), "an item arrived but the task was not woken: was the waker passed to the inner stream?");
    assert_eq!(task.poll_next(), std::task::Poll::Ready(Some(vec![42])));
}
