use std::sync::Arc;

pub trait BlockingStore: Send + Sync + 'static {
    /// Synchronous: may block the calling thread for a long time.
    fn load(&self, key: &str) -> String;
}

/// Loads every key concurrently; results are in the order of `keys`.
pub async fn load_all(store: Arc<dyn BlockingStore>, keys: Vec<String>) -> Vec<String> {
    // Each blocking call gets its own thread from tokio's blocking pool; the
    // async worker only awaits the handles, so it stays free for other tasks.
    let handles: Vec<_> = keys
        .into_iter()
        .map(|key| {
            let store = Arc::clone(&store);
            tokio::task::spawn_blocking(move || store.load(&key))
        })
        .collect();

    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        match h.await {
            Ok(v) => out.push(v),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("blocking load was cancelled: {e}"),
        }
    }
    out
}
