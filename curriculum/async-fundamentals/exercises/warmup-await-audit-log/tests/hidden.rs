use std::time::Duration;
use tokio::time::Instant;
use warmup_await_audit_log::*;

#[tokio::test(start_paused = true)]
async fn the_audit_write_is_part_of_checkout() {
    let catalog = Catalog::new(&[("apple", 100), ("bread", 250)]);
    let audit = AuditLog::new();
    let start = Instant::now();
    checkout(&["apple", "bread"], &catalog, &audit).await.unwrap();
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(25),
        "two 10 ms lookups then one 5 ms audit write, one after another"
    );
    assert_eq!(audit.lines().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn empty_cart_is_audited_too() {
    let catalog = Catalog::new(&[]);
    let audit = AuditLog::new();
    assert_eq!(checkout(&[], &catalog, &audit).await, Ok(0));
    assert!(catalog.lookups().is_empty());
    assert_eq!(audit.lines(), vec!["checkout ok: 0 items, total 0".to_string()]);
}

#[tokio::test(start_paused = true)]
async fn failed_checkout_records_before_returning() {
    let catalog = Catalog::new(&[("apple", 100)]);
    let audit = AuditLog::new();
    let start = Instant::now();
    let result = checkout(&["ghost"], &catalog, &audit).await;
    assert_eq!(result, Err(UnknownSku("ghost".into())));
    assert_eq!(start.elapsed(), Duration::from_millis(15), "one lookup, then the audit write");
    assert_eq!(audit.lines(), vec!["checkout failed: unknown sku ghost".to_string()]);
}
