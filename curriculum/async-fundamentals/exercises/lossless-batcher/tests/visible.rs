use lossless_batcher::*;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn full_batches_are_emitted() {
    let (tx, rx) = mpsc::channel(100);
    let (out_tx, mut out) = mpsc::unbounded_channel();
    let batcher = tokio::spawn(run_batcher(rx, 3, 100 * MS, out_tx));
    for i in 1..=6 {
        tx.send(i).await.unwrap();
    }
    drop(tx);
    timeout(Duration::from_secs(10), batcher).await.expect("run_batcher did not return after the input closed").unwrap();
    assert_eq!(out.recv().await, Some(vec![1, 2, 3]));
    assert_eq!(out.recv().await, Some(vec![4, 5, 6]));
    assert_eq!(out.recv().await, None);
}

#[tokio::test(start_paused = true)]
async fn partial_batch_is_flushed_on_tick() {
    let (tx, rx) = mpsc::channel(100);
    let (out_tx, mut out) = mpsc::unbounded_channel();
    tokio::spawn(run_batcher(rx, 10, 100 * MS, out_tx));
    for i in 1..=3 {
        tx.send(i).await.unwrap();
    }
    let got = timeout(150 * MS, out.recv()).await;
    assert_eq!(
        got,
        Ok(Some(vec![1, 2, 3])),
        "events 1, 2, 3 should be flushed by the tick at 100 ms; they were taken out of the channel and then lost when the tick won the select! and dropped the batch-collecting future"
    );
    drop(tx);
}

#[tokio::test(start_paused = true)]
async fn every_event_is_delivered_exactly_once() {
    let (tx, rx) = mpsc::channel(100);
    let (out_tx, mut out) = mpsc::unbounded_channel();
    tokio::spawn(run_batcher(rx, 4, 100 * MS, out_tx));
    tokio::spawn(async move {
        for i in 1..=20 {
            tx.send(i).await.unwrap();
            sleep(30 * MS).await;
        }
    });
    let mut all = Vec::new();
    let collect = async {
        while let Some(batch) = out.recv().await {
            assert!(!batch.is_empty(), "empty batch sent");
            all.extend(batch);
        }
    };
    timeout(Duration::from_secs(60), collect).await.expect("the output channel was never closed: run_batcher should return once the input is closed");
    let want: Vec<u32> = (1..=20).collect();
    let lost: Vec<u32> = want.iter().copied().filter(|v| !all.contains(v)).collect();
    assert!(lost.is_empty(), "events {lost:?} were lost (received {all:?})");
    assert_eq!(all, want, "events must arrive exactly once and in order");
}
