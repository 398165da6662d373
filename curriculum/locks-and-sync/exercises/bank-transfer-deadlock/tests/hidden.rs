use bank_transfer_deadlock::*;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, timeout};

async fn must_finish<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match timeout(Duration::from_secs(10), fut).await {
        Ok(v) => v,
        Err(_) => panic!("DEADLOCK: {what} never finished; tasks are waiting on each other's account locks"),
    }
}

fn spawn_transfer(bank: &Arc<Bank>, from: usize, to: usize, amount: u64)
    -> tokio::task::JoinHandle<Result<(), TransferError>> {
    let bank = Arc::clone(bank);
    tokio::spawn(async move { bank.transfer(from, to, amount).await })
}

#[tokio::test(start_paused = true)]
async fn transfer_to_self_is_rejected_not_frozen() {
    let bank = Arc::new(Bank::new(&[100]));
    let r = must_finish("transfer(0 -> 0): locking the same tokio Mutex twice waits forever", bank.transfer(0, 0, 10)).await;
    assert_eq!(r, Err(TransferError::SameAccount));
    assert_eq!(bank.balance(0).await, Some(100));
}

#[tokio::test(start_paused = true)]
async fn three_way_cycle_does_not_deadlock() {
    let bank = Arc::new(Bank::new(&[100, 100, 100]));
    let hs = vec![spawn_transfer(&bank, 0, 1, 10), spawn_transfer(&bank, 1, 2, 20), spawn_transfer(&bank, 2, 0, 30)];
    let results = must_finish("the ring 0 -> 1, 1 -> 2, 2 -> 0", async {
        let mut v = Vec::new();
        for h in hs { v.push(h.await.unwrap()); }
        v
    })
    .await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(bank.balance(0).await, Some(120));
    assert_eq!(bank.balance(1).await, Some(90));
    assert_eq!(bank.balance(2).await, Some(90));
}

#[tokio::test(start_paused = true)]
async fn many_mixed_transfers_conserve_money() {
    let bank = Arc::new(Bank::new(&[1000, 1000, 1000, 1000]));
    let mut hs = Vec::new();
    for i in 0..40usize {
        let from = i % 4;
        let to = (i * 7 + 1) % 4;
        if from != to {
            hs.push(spawn_transfer(&bank, from, to, (i as u64 % 5) * 10 + 1));
        }
    }
    must_finish("40 concurrent transfers in both directions", async {
        for h in hs { h.await.unwrap().unwrap(); }
    })
    .await;
    assert_eq!(bank.total().await, 4000, "money was created or destroyed");
}

#[tokio::test(start_paused = true)]
async fn disjoint_transfers_run_in_parallel() {
    let bank = Arc::new(Bank::new(&[100, 100, 100, 100]));
    let start = Instant::now();
    let a = spawn_transfer(&bank, 0, 1, 10);
    let b = spawn_transfer(&bank, 3, 2, 10);
    must_finish("two disjoint transfers", async { a.await.unwrap().unwrap(); b.await.unwrap().unwrap(); }).await;
    let took = start.elapsed();
    assert!(
        took < Duration::from_millis(2),
        "transfers 0 -> 1 and 3 -> 2 share no account but took {took:?} together; \
         with per-account locks they should overlap (~1 ms). Is there a global lock?"
    );
}
