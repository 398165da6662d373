use std::sync::Arc;

pub trait BlockingStore: Send + Sync + 'static {
    /// Synchronous: may block the calling thread for a long time.
    fn load(&self, key: &str) -> String;
}

/// Loads every key concurrently; results are in the order of `keys`.
pub async fn load_all(store: Arc<dyn BlockingStore>, keys: Vec<String>) -> Vec<String> {
    let futs = keys.into_iter().map(|key| {
        let store = Arc::clone(&store);
        async move { store.load(&key) }
    });
    futures::future::join_all(futs).await
}
