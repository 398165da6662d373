use futures::stream::{self, StreamExt};
use std::future::Future;

/// Fetches every id with at most `limit` requests in flight; results in input order.
pub async fn fetch_all<F, Fut, T>(ids: Vec<u32>, limit: usize, fetch: F) -> Vec<T>
where
    F: Fn(u32) -> Fut,
    Fut: Future<Output = T>,
{
    assert!(limit >= 1, "limit must be at least 1");
    let mut indexed: Vec<(usize, T)> = stream::iter(ids.into_iter().enumerate())
        .map(|(i, id)| {
            let fut = fetch(id); // created lazily, when buffer_unordered has a free slot
            async move { (i, fut.await) }
        })
        .buffer_unordered(limit)
        .collect()
        .await;
    indexed.sort_unstable_by_key(|(i, _)| *i);
    indexed.into_iter().map(|(_, v)| v).collect()
}
