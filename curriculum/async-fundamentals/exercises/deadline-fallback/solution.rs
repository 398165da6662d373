use std::future::Future;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    TimedOut,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Primary,
    Fallback(Reason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer<T> {
    pub value: T,
    pub source: Source,
}

/// Runs `primary` within `budget`; otherwise answers from `fallback`.
pub async fn with_fallback<T, E, P, F, FFut>(primary: P, budget: Duration, fallback: F) -> Answer<T>
where
    P: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
    F: FnOnce() -> FFut,
    FFut: Future<Output = T>,
{
    // `timeout` owns `primary`; when the deadline passes it drops it, which
    // cancels the call at whatever .await it was suspended on.
    let reason = match tokio::time::timeout(budget, primary).await {
        Ok(Ok(value)) => return Answer { value, source: Source::Primary },
        Ok(Err(e)) => Reason::Failed(e.to_string()),
        Err(_elapsed) => Reason::TimedOut,
    };
    // Only now is the fallback future created.
    Answer { value: fallback().await, source: Source::Fallback(reason) }
}
