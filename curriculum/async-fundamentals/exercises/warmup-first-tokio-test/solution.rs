//! Reference tests for `TtlCache`.

use std::time::Duration;
use tokio::time::{advance, sleep};
use warmup_first_tokio_test::*;

const TTL: Duration = Duration::from_millis(1000);
const MS: Duration = Duration::from_millis(1);

/// Reads `key`, loading `value` on a miss; returns what the cache returned
/// and whether the loader ran.
async fn read(cache: &mut TtlCache, key: &str, value: &str) -> (String, bool) {
    let mut loaded = false;
    let got = cache
        .get_or_load(key, || {
            loaded = true;
            let value = value.to_string();
            async move { value }
        })
        .await;
    (got, loaded)
}

#[tokio::test(start_paused = true)]
async fn a_second_read_within_the_ttl_does_not_reload() {
    let mut cache = TtlCache::new(TTL);
    assert_eq!(read(&mut cache, "user:1", "ada").await, ("ada".into(), true));
    advance(500 * MS).await;
    assert_eq!(read(&mut cache, "user:1", "grace").await, ("ada".into(), false));
}

#[tokio::test(start_paused = true)]
async fn after_the_ttl_the_next_read_loads_again() {
    let mut cache = TtlCache::new(TTL);
    read(&mut cache, "user:1", "ada").await;
    advance(1500 * MS).await;
    assert_eq!(read(&mut cache, "user:1", "grace").await, ("grace".into(), true));
}

#[tokio::test(start_paused = true)]
async fn fresh_until_but_not_including_the_ttl() {
    let mut cache = TtlCache::new(TTL);
    read(&mut cache, "k", "v1").await;
    advance(TTL - MS).await;
    assert_eq!(read(&mut cache, "k", "v2").await, ("v1".into(), false), "fresh at ttl - 1 ms");
    advance(MS).await;
    assert_eq!(read(&mut cache, "k", "v3").await, ("v3".into(), true), "expired at exactly ttl");
}

#[tokio::test(start_paused = true)]
async fn reading_does_not_extend_the_life_of_an_entry() {
    let mut cache = TtlCache::new(TTL);
    read(&mut cache, "k", "v1").await;
    advance(600 * MS).await;
    assert_eq!(read(&mut cache, "k", "v2").await, ("v1".into(), false));
    advance(400 * MS).await; // 1000 ms after the load, 400 ms after the read
    assert_eq!(read(&mut cache, "k", "v3").await, ("v3".into(), true));
}

#[tokio::test(start_paused = true)]
async fn keys_are_cached_independently() {
    let mut cache = TtlCache::new(TTL);
    read(&mut cache, "a", "A").await;
    read(&mut cache, "b", "B").await;
    assert_eq!(read(&mut cache, "a", "A2").await, ("A".into(), false));
    assert_eq!(read(&mut cache, "b", "B2").await, ("B".into(), false));
}

#[tokio::test(start_paused = true)]
async fn the_stamp_is_when_the_load_finished() {
    let mut cache = TtlCache::new(TTL);
    let slow = cache
        .get_or_load("k", || async {
            sleep(300 * MS).await; // the load itself takes 300 ms
            "v1".to_string()
        })
        .await;
    assert_eq!(slow, "v1");
    advance(900 * MS).await; // 1200 ms after the start, 900 ms after the load finished
    assert_eq!(read(&mut cache, "k", "v2").await, ("v1".into(), false));
}
