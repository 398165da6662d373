use bank_transfer_deadlock::*;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::timeout;

/// Runs `fut`, failing fast (instead of hanging) if it makes no progress.
/// With paused time, the 10 s timeout fires as soon as every task is stuck.
async fn must_finish<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match timeout(Duration::from_secs(10), fut).await {
        Ok(v) => v,
        Err(_) => panic!(
            "DEADLOCK: {what} never finished. Every task is parked waiting for an account lock \
             held by another task (check the order in which transfer() takes its two locks)"
        ),
    }
}

fn spawn_transfer(bank: &Arc<Bank>, from: usize, to: usize, amount: u64)
    -> tokio::task::JoinHandle<Result<(), TransferError>> {
    let bank = Arc::clone(bank);
    tokio::spawn(async move { bank.transfer(from, to, amount).await })
}

#[tokio::test(start_paused = true)]
async fn single_transfer_moves_money() {
    let bank = Arc::new(Bank::new(&[100, 50]));
    let r = must_finish("transfer(0 -> 1, 30)", bank.transfer(0, 1, 30)).await;
    assert_eq!(r, Ok(()));
    assert_eq!(bank.balance(0).await, Some(70));
    assert_eq!(bank.balance(1).await, Some(80));
}

#[tokio::test(start_paused = true)]
async fn opposite_transfers_do_not_deadlock() {
    let bank = Arc::new(Bank::new(&[100, 100]));
    let a = spawn_transfer(&bank, 0, 1, 30);
    let b = spawn_transfer(&bank, 1, 0, 10);
    let (ra, rb) = must_finish("transfer(0 -> 1) running concurrently with transfer(1 -> 0)", async {
        (a.await.unwrap(), b.await.unwrap())
    })
    .await;
    assert_eq!((ra, rb), (Ok(()), Ok(())));
    assert_eq!(bank.balance(0).await, Some(80));
    assert_eq!(bank.balance(1).await, Some(120));
}

#[tokio::test(start_paused = true)]
async fn failed_transfers_change_nothing() {
    let bank = Arc::new(Bank::new(&[100, 100]));
    assert_eq!(must_finish("overdraft", bank.transfer(0, 1, 500)).await, Err(TransferError::InsufficientFunds));
    assert_eq!(must_finish("unknown account", bank.transfer(0, 7, 5)).await, Err(TransferError::UnknownAccount));
    assert_eq!(bank.balance(0).await, Some(100));
    assert_eq!(bank.balance(1).await, Some(100));
}
