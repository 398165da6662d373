use graceful_worker_shutdown::*;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, timeout};
use tokio_util::sync::CancellationToken;

const MS: Duration = Duration::from_millis(1);

fn job(id: u32, ms: u64) -> Job {
    Job { id, cost: Duration::from_millis(ms) }
}

#[tokio::test(start_paused = true)]
async fn processes_jobs_until_the_channel_closes() {
    let (tx, rx) = mpsc::channel(10);
    let (done_tx, mut done) = mpsc::unbounded_channel();
    for j in [job(1, 100), job(2, 100), job(3, 100)] {
        tx.send(j).await.unwrap();
    }
    drop(tx);
    let n = timeout(Duration::from_secs(60), worker(CancellationToken::new(), rx, done_tx))
        .await
        .expect("worker did not return after the job channel closed");
    assert_eq!(n, 3);
    for id in 1..=3 {
        assert_eq!(done.recv().await, Some(id));
    }
}

#[tokio::test(start_paused = true)]
async fn idle_worker_stops_when_cancelled() {
    let (_tx, rx) = mpsc::channel::<Job>(10); // kept open: no jobs, but not closed either
    let (done_tx, _done) = mpsc::unbounded_channel();
    let token = CancellationToken::new();
    let h = tokio::spawn(worker(token.clone(), rx, done_tx));
    sleep(100 * MS).await;
    token.cancel();
    let n = timeout(Duration::from_secs(60), h)
        .await
        .expect("an idle worker was still waiting for jobs a minute after the token was cancelled: it must also wait on token.cancelled()")
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test(start_paused = true)]
async fn job_in_hand_is_finished_but_no_new_job_starts() {
    let (tx, rx) = mpsc::channel(10);
    let (done_tx, mut done) = mpsc::unbounded_channel();
    for j in [job(1, 500), job(2, 100)] {
        tx.send(j).await.unwrap();
    }
    let token = CancellationToken::new();
    let start = Instant::now();
    let h = tokio::spawn(worker(token.clone(), rx, done_tx));
    sleep(100 * MS).await;
    token.cancel();
    let n = timeout(Duration::from_secs(60), h).await.expect("worker did not stop after cancel").unwrap();
    assert_eq!(start.elapsed().as_millis(), 500, "the worker should stop right after finishing job 1 (at 500 ms)");
    assert_eq!(n, 1, "job 1 was in progress and must complete; job 2 must not be started after cancellation");
    assert_eq!(done.recv().await, Some(1));
    assert_eq!(done.recv().await, None);
    drop(tx);
}
