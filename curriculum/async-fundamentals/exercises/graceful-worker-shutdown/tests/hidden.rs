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
async fn shutdown_waits_for_the_job_in_hand() {
    let (tx, rx) = mpsc::channel(10);
    let (done_tx, mut done) = mpsc::unbounded_channel();
    for j in [job(1, 100), job(2, 500), job(3, 100)] {
        tx.send(j).await.unwrap();
    }
    let token = CancellationToken::new();
    let start = Instant::now();
    let h = tokio::spawn(worker(token.clone(), rx, done_tx));
    sleep(250 * MS).await;
    let r = timeout(Duration::from_secs(60), shutdown(token, h, Duration::from_secs(1))).await.expect("shutdown hung");
    assert_eq!(r, Ok(2));
    assert_eq!(start.elapsed().as_millis(), 600);
    assert_eq!(done.recv().await, Some(1));
    assert_eq!(done.recv().await, Some(2));
    assert_eq!(done.recv().await, None);
    drop(tx);
}

#[tokio::test(start_paused = true)]
async fn grace_period_expiry_aborts_the_worker() {
    let (tx, rx) = mpsc::channel(10);
    let (done_tx, mut done) = mpsc::unbounded_channel();
    for j in [job(1, 100), job(2, 500)] {
        tx.send(j).await.unwrap();
    }
    let token = CancellationToken::new();
    let start = Instant::now();
    let h = tokio::spawn(worker(token.clone(), rx, done_tx));
    sleep(250 * MS).await;
    let r = timeout(Duration::from_secs(60), shutdown(token, h, 200 * MS)).await.expect("shutdown hung");
    assert_eq!(r, Err(ShutdownError::GraceExpired));
    assert_eq!(start.elapsed().as_millis(), 450, "shutdown should give up exactly when the grace period ends");
    assert_eq!(done.recv().await, Some(1));
    assert_eq!(
        done.recv().await,
        None,
        "after shutdown returns, the aborted worker must be gone (its `done` sender dropped), and job 2 never reported"
    );
    drop(tx);
}

#[tokio::test(start_paused = true)]
async fn panicked_worker_is_reported() {
    let h = tokio::spawn(async { panic!("worker blew up") });
    let r = timeout(Duration::from_secs(60), shutdown(CancellationToken::new(), h, Duration::from_secs(1)))
        .await
        .expect("shutdown hung");
    assert_eq!(r, Err(ShutdownError::WorkerPanicked));
}

#[tokio::test(start_paused = true)]
async fn cancellation_wins_over_waiting_jobs() {
    let (tx, rx) = mpsc::channel(10);
    let (done_tx, _done) = mpsc::unbounded_channel();
    tx.send(job(1, 100)).await.unwrap();
    let token = CancellationToken::new();
    token.cancel();
    let n = timeout(Duration::from_secs(60), worker(token, rx, done_tx)).await.expect("worker hung");
    assert_eq!(n, 0, "the token was already cancelled: no job should be started, even though one was waiting");
}
