//! stamps the entry with the time the load started, not when it finished

//! A small cache whose entries expire `ttl` after they were loaded.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

pub struct TtlCache {
    ttl: Duration,
    entries: HashMap<String, (String, Instant)>,
}

impl TtlCache {
    pub fn new(ttl: Duration) -> Self {
        TtlCache { ttl, entries: HashMap::new() }
    }

    /// Returns the cached value for `key` if it was loaded less than `ttl`
    /// ago. Otherwise awaits `load()`, caches the result stamped with the
    /// time the load finished, and returns it.
    ///
    /// An entry stamped at `t` is fresh for `t <= now < t + ttl`: at exactly
    /// `t + ttl` it has expired. Reading an entry does not extend its life.
    /// Keys are independent of each other. Time is tokio's clock.
    pub async fn get_or_load<F, Fut>(&mut self, key: &str, load: F) -> String
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = String>,
    {
        if let Some((value, stamped)) = self.entries.get(key) {
            if stamped.elapsed() < self.ttl {
                return value.clone();
            }
        }
        let started = Instant::now();
        let value = load().await;
        self.entries.insert(key.to_string(), (value.clone(), started));
        value
    }
}
