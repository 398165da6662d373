use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{MissedTickBehavior, interval};

/// Collects up to `n` events; returns early (possibly empty) if the channel closes.
async fn next_batch(rx: &mut mpsc::Receiver<u32>, n: usize) -> Vec<u32> {
    let mut batch = Vec::with_capacity(n);
    while batch.len() < n {
        match rx.recv().await {
            Some(v) => batch.push(v),
            None => break,
        }
    }
    batch
}

pub async fn run_batcher(
    mut rx: mpsc::Receiver<u32>,
    batch_size: usize,
    flush_every: Duration,
    out: mpsc::UnboundedSender<Vec<u32>>,
) {
    let mut ticker = interval(flush_every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker.tick().await; // the first tick completes immediately

    let mut pending: Vec<u32> = Vec::new();
    loop {
        tokio::select! {
            batch = next_batch(&mut rx, batch_size) => {
                let closed = batch.len() < batch_size;
                if !batch.is_empty() {
                    let _ = out.send(batch);
                }
                if closed {
                    return;
                }
            }
            _ = ticker.tick() => {
                if !pending.is_empty() {
                    let _ = out.send(std::mem::take(&mut pending));
                }
            }
        }
    }
}
