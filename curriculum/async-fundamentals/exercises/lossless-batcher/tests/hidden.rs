use lossless_batcher::*;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, timeout};

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn remainder_is_flushed_on_close() {
    let (tx, rx) = mpsc::channel(100);
    let (out_tx, mut out) = mpsc::unbounded_channel();
    let batcher = tokio::spawn(run_batcher(rx, 3, 100 * MS, out_tx));
    for i in 1..=5 {
        tx.send(i).await.unwrap();
    }
    drop(tx);
    timeout(Duration::from_secs(10), batcher).await.expect("run_batcher did not return").unwrap();
    assert_eq!(out.recv().await, Some(vec![1, 2, 3]));
    assert_eq!(out.recv().await, Some(vec![4, 5]));
    assert_eq!(out.recv().await, None);
}

#[tokio::test(start_paused = true)]
async fn flushes_happen_on_ticks() {
    let (tx, rx) = mpsc::channel(100);
    let (out_tx, mut out) = mpsc::unbounded_channel();
    let start = Instant::now();
    tokio::spawn(run_batcher(rx, 10, 100 * MS, out_tx));
    tx.send(1).await.unwrap();
    let producer = tokio::spawn(async move {
        sleep(150 * MS).await;
        tx.send(2).await.unwrap();
        sleep(Duration::from_secs(1)).await;
    });
    let first = timeout(Duration::from_secs(5), out.recv()).await.expect("no flush");
    assert_eq!((first, start.elapsed().as_millis()), (Some(vec![1]), 100));
    let second = timeout(Duration::from_secs(5), out.recv()).await.expect("no second flush");
    assert_eq!((second, start.elapsed().as_millis()), (Some(vec![2]), 200));
    producer.await.unwrap();
    assert_eq!(out.recv().await, None, "no empty batches, and the output closes after the input does");
}

#[tokio::test(start_paused = true)]
async fn idle_input_sends_nothing() {
    let (tx, rx) = mpsc::channel::<u32>(100);
    let (out_tx, mut out) = mpsc::unbounded_channel();
    let batcher = tokio::spawn(run_batcher(rx, 10, 100 * MS, out_tx));
    sleep(Duration::from_secs(1)).await;
    drop(tx);
    timeout(Duration::from_secs(10), batcher).await.expect("run_batcher did not return").unwrap();
    assert_eq!(out.recv().await, None, "ticks with nothing pending must not send empty batches");
}
