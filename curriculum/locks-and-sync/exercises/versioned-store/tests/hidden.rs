use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::time::sleep;
use versioned_store::*;

#[tokio::test(start_paused = true)]
async fn gives_up_after_max_attempts() {
    let store = Arc::new(VersionedStore::new());
    store.insert("k", 0u64);
    let mut hs = Vec::new();
    for _ in 0..3 {
        let store = store.clone();
        hs.push(tokio::spawn(async move {
            update_with_retry(&store, "k", 1, |n| async move {
                sleep(Duration::from_millis(10)).await;
                n + 1
            })
            .await
        }));
    }
    let mut ok = 0;
    let mut gave_up = 0;
    for h in hs {
        match h.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::TooManyConflicts { attempts: 1 }) => gave_up += 1,
            other => panic!("unexpected result {other:?}"),
        }
    }
    assert_eq!((ok, gave_up), (1, 2), "one attempt each, all racing: 1 winner, 2 TooManyConflicts {{ attempts: 1 }}");
    assert_eq!(store.get("k").unwrap(), Versioned { value: 1, version: 2 });
}

#[tokio::test(start_paused = true)]
async fn retries_from_a_fresh_read_and_calls_f_once_per_attempt() {
    let store = Arc::new(VersionedStore::new());
    store.insert("doc", String::from("draft"));
    let calls = Arc::new(AtomicU32::new(0));

    // A competing writer sneaks in while our first computation is running.
    let s2 = store.clone();
    let rival = tokio::spawn(async move {
        sleep(Duration::from_millis(5)).await;
        let cur = s2.get("doc").unwrap();
        s2.compare_and_set("doc", cur.version, format!("{} (edited)", cur.value)).unwrap();
    });

    let c = calls.clone();
    let r = update_with_retry(&store, "doc", 5, move |text| {
        c.fetch_add(1, Ordering::SeqCst);
        async move {
            sleep(Duration::from_millis(10)).await;
            format!("{text} +signature")
        }
    })
    .await;
    rival.await.unwrap();
    assert_eq!(
        r,
        Ok(Versioned { value: "draft (edited) +signature".to_string(), version: 3 }),
        "after the conflict the update must be recomputed from the rival's version"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one conflict, one success: f should run exactly twice");
}

#[tokio::test(start_paused = true)]
async fn missing_key_is_not_found_without_calling_f() {
    let store: VersionedStore<u32> = VersionedStore::new();
    let calls = AtomicU32::new(0);
    let r = update_with_retry(&store, "ghost", 3, |v| {
        calls.fetch_add(1, Ordering::SeqCst);
        async move { v }
    })
    .await;
    assert_eq!(r, Err(StoreError::NotFound));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn single_writer_succeeds_first_time() {
    let store = VersionedStore::new();
    store.insert("n", 41);
    let r = update_with_retry(&store, "n", 1, |n| async move { n + 1 }).await;
    assert_eq!(r, Ok(Versioned { value: 42, version: 2 }));
}
