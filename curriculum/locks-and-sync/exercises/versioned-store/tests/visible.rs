use std::sync::Arc;
use std::time::Duration;
use tokio::time::sleep;
use versioned_store::*;

#[test]
fn compare_and_set_bumps_the_version() {
    let store = VersionedStore::new();
    assert_eq!(store.insert("price", 100), 1);
    assert_eq!(store.compare_and_set("price", 1, 110), Ok(2), "writing at the current version should succeed and return v2");
    assert_eq!(store.get("price"), Some(Versioned { value: 110, version: 2 }));
}

#[test]
fn stale_version_is_rejected() {
    let store = VersionedStore::new();
    store.insert("price", 100);
    store.compare_and_set("price", 1, 110).unwrap();
    assert_eq!(
        store.compare_and_set("price", 1, 90),
        Err(StoreError::Conflict { expected: 1, actual: 2 }),
        "a write based on v1 must be rejected once the record is at v2 (this is '0 rows affected')"
    );
    assert_eq!(store.get("price"), Some(Versioned { value: 110, version: 2 }), "a rejected write must change nothing");
    assert_eq!(store.compare_and_set("nope", 1, 1), Err(StoreError::NotFound));
}

#[tokio::test(start_paused = true)]
async fn concurrent_increments_lose_nothing() {
    let store = Arc::new(VersionedStore::new());
    store.insert("counter", 0u64);
    let mut hs = Vec::new();
    for _ in 0..5 {
        let store = store.clone();
        hs.push(tokio::spawn(async move {
            update_with_retry(&store, "counter", 10, |n| async move {
                sleep(Duration::from_millis(10)).await; // slow compute: everyone reads before anyone writes
                n + 1
            })
            .await
        }));
    }
    for h in hs {
        let r = h.await.unwrap();
        assert!(r.is_ok(), "with 10 attempts each, all 5 increments should eventually win, got {r:?}");
    }
    let end = store.get("counter").unwrap();
    assert_eq!(
        end,
        Versioned { value: 5, version: 6 },
        "5 concurrent +1 updates: expected value 5 at version 6; a smaller value means an update was lost"
    );
}
