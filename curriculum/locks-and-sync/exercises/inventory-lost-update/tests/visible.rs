use inventory_lost_update::*;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::sleep;

fn slow_payment(ok: bool) -> impl std::future::Future<Output = bool> + Send + 'static {
    async move {
        sleep(Duration::from_millis(50)).await;
        ok
    }
}

async fn run_orders(inv: &Arc<Inventory>, sku: &'static str, n: usize) -> Vec<Result<u32, OrderError>> {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let inv = Arc::clone(inv);
        tasks.push(tokio::spawn(async move { inv.place_order(sku, slow_payment(true)).await }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("order task panicked"));
    }
    out
}

#[tokio::test(start_paused = true)]
async fn single_order_takes_one_item() {
    let inv = Arc::new(Inventory::new(&[("mug", 3)]));
    let r = inv.place_order("mug", slow_payment(true)).await;
    assert_eq!(r, Ok(2), "one order on a stock of 3 should leave 2");
    assert_eq!(inv.stock("mug"), Some(2));
    assert_eq!(inv.place_order("hat", slow_payment(true)).await, Err(OrderError::UnknownSku));
}

#[tokio::test(start_paused = true)]
async fn concurrent_orders_do_not_lose_updates() {
    let inv = Arc::new(Inventory::new(&[("mug", 10)]));
    let results = run_orders(&inv, "mug", 5).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 5, "all 5 orders should succeed on a stock of 10, got {results:?}");
    assert_eq!(
        inv.stock("mug"),
        Some(5),
        "5 concurrent orders on a stock of 10 must leave 5. Fewer sales recorded means updates were lost: \
         every order read the stock before the payment .await and wrote back a stale value after it"
    );
}

#[tokio::test(start_paused = true)]
async fn never_oversells_the_last_item() {
    let inv = Arc::new(Inventory::new(&[("mug", 1)]));
    let results = run_orders(&inv, "mug", 2).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(
        ok, 1,
        "two customers raced for the last mug and {ok} of them got it ({results:?}); exactly one should, \
         the other should get Err(OutOfStock)"
    );
    assert!(results.contains(&Err(OrderError::OutOfStock)), "the loser should see OutOfStock, got {results:?}");
    assert_eq!(inv.stock("mug"), Some(0));
}

#[tokio::test(start_paused = true)]
async fn declined_payment_puts_the_item_back() {
    let inv = Arc::new(Inventory::new(&[("mug", 3)]));
    let r = inv.place_order("mug", slow_payment(false)).await;
    assert_eq!(r, Err(OrderError::PaymentDeclined));
    assert_eq!(inv.stock("mug"), Some(3), "a declined order must not consume stock");
}
