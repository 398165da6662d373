use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{MissedTickBehavior, interval};

pub async fn run_batcher(
    mut rx: mpsc::Receiver<u32>,
    batch_size: usize,
    flush_every: Duration,
    out: mpsc::UnboundedSender<Vec<u32>>,
) {
    let mut ticker = interval(flush_every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker.tick().await; // the first tick completes immediately

    // The partial batch lives here, outside any future that select! may drop.
    let mut pending: Vec<u32> = Vec::with_capacity(batch_size);
    loop {
        tokio::select! {
            // `recv` is cancel safe: if the tick wins, no message is lost.
            msg = rx.recv() => match msg {
                Some(v) => {
                    pending.push(v);
                    if pending.len() >= batch_size {
                        let _ = out.send(std::mem::take(&mut pending));
                    }
                }
                None => {
                    if !pending.is_empty() {
                        let _ = out.send(std::mem::take(&mut pending));
                    }
                    return;
                }
            },
            _ = ticker.tick() => {
                if !pending.is_empty() {
                    let _ = out.send(std::mem::take(&mut pending));
                }
            }
        }
    }
}
