use inventory_lost_update::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::{Instant, sleep};

#[tokio::test(start_paused = true)]
async fn customers_are_not_charged_for_items_that_are_gone() {
    let inv = Arc::new(Inventory::new(&[("mug", 1)]));
    let charges = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let inv = Arc::clone(&inv);
        let charges = Arc::clone(&charges);
        tasks.push(tokio::spawn(async move {
            inv.place_order("mug", async move {
                sleep(Duration::from_millis(50)).await;
                charges.fetch_add(1, Ordering::SeqCst);
                true
            })
            .await
        }));
    }
    for t in tasks {
        let _ = t.await.unwrap();
    }
    let n = charges.load(Ordering::SeqCst);
    assert_eq!(n, 1, "3 customers, 1 mug: exactly 1 customer should have been charged, {n} were");
    assert_eq!(inv.stock("mug"), Some(0));
}

#[tokio::test(start_paused = true)]
async fn each_order_reports_its_own_remaining_count() {
    let inv = Arc::new(Inventory::new(&[("mug", 5)]));
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let inv = Arc::clone(&inv);
        tasks.push(tokio::spawn(async move {
            inv.place_order("mug", async { sleep(Duration::from_millis(50)).await; true }).await
        }));
    }
    let mut remaining = Vec::new();
    for t in tasks {
        remaining.push(t.await.unwrap().expect("every order should succeed"));
    }
    remaining.sort();
    assert_eq!(remaining, vec![0, 1, 2, 3, 4], "each order should see a distinct 'stock left' value");
}

#[tokio::test(start_paused = true)]
async fn payments_run_concurrently() {
    let inv = Arc::new(Inventory::new(&[("mug", 10)]));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let inv = Arc::clone(&inv);
        tasks.push(tokio::spawn(async move {
            inv.place_order("mug", async { sleep(Duration::from_millis(50)).await; true }).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let took = start.elapsed();
    assert!(
        took < Duration::from_millis(100),
        "5 orders with 50 ms payments took {took:?}; they should overlap (~50 ms). Is a lock held across the payment .await?"
    );
    assert_eq!(inv.stock("mug"), Some(5));
}

#[tokio::test(start_paused = true)]
async fn declined_payment_under_concurrency_returns_exactly_one_item() {
    let inv = Arc::new(Inventory::new(&[("mug", 4)]));
    let a = {
        let inv = Arc::clone(&inv);
        tokio::spawn(async move { inv.place_order("mug", async { sleep(Duration::from_millis(80)).await; false }).await })
    };
    let b = {
        let inv = Arc::clone(&inv);
        tokio::spawn(async move { inv.place_order("mug", async { sleep(Duration::from_millis(20)).await; true }).await })
    };
    assert_eq!(b.await.unwrap(), Ok(2), "B ordered while A's item was reserved, so B should see 2 left");
    assert_eq!(a.await.unwrap(), Err(OrderError::PaymentDeclined));
    assert_eq!(inv.stock("mug"), Some(3), "A was declined, B succeeded: 4 - 1 = 3");
}
