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
    let _ = budget; // TODO: enforce the budget
    match primary.await {
        Ok(value) => Answer { value, source: Source::Primary },
        Err(e) => Answer { value: fallback().await, source: Source::Fallback(Reason::Failed(e.to_string())) },
    }
}
