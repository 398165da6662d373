use std::time::Duration;
use tokio::time::Instant;
use warmup_await_audit_log::*;

fn catalog() -> Catalog {
    Catalog::new(&[("apple", 100), ("bread", 250), ("cheese", 100)])
}

#[tokio::test(start_paused = true)]
async fn total_is_the_sum_of_the_prices() {
    let (catalog, audit) = (catalog(), AuditLog::new());
    let total = checkout(&["apple", "bread", "cheese"], &catalog, &audit).await;
    assert_eq!(total, Ok(450));
}

#[tokio::test(start_paused = true)]
async fn successful_checkout_is_audited() {
    let (catalog, audit) = (catalog(), AuditLog::new());
    checkout(&["apple", "bread", "cheese"], &catalog, &audit).await.unwrap();
    assert_eq!(
        audit.lines(),
        vec!["checkout ok: 3 items, total 450".to_string()],
        "checkout returned, so its audit line must already be in the log"
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_sku_fails_is_audited_and_stops_the_lookups() {
    let (catalog, audit) = (catalog(), AuditLog::new());
    let result = checkout(&["apple", "caviar", "bread"], &catalog, &audit).await;
    assert_eq!(result, Err(UnknownSku("caviar".into())));
    assert_eq!(catalog.lookups(), vec!["apple", "caviar"], "nothing is looked up after the unknown SKU");
    assert_eq!(audit.lines(), vec!["checkout failed: unknown sku caviar".to_string()]);
}

#[tokio::test(start_paused = true)]
async fn lookups_happen_one_after_another() {
    let (catalog, audit) = (catalog(), AuditLog::new());
    let start = Instant::now();
    checkout(&["cheese", "apple"], &catalog, &audit).await.unwrap();
    assert_eq!(catalog.lookups(), vec!["cheese", "apple"]);
    assert!(start.elapsed() >= Duration::from_millis(20), "two 10 ms lookups in sequence take at least 20 ms");
}
