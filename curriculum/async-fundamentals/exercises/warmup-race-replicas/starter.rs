use std::future::Future;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Primary(String),
    Replica(String),
    TimedOut,
}

/// Asks `primary` and `replica` at the same time and returns the first
/// answer; on a tie (both ready at once) the primary's. If neither has
/// answered within `budget`, returns `TimedOut` at the deadline. The losing
/// futures are dropped (cancelled) before `race` returns.
pub async fn race<P, R>(primary: P, replica: R, budget: Duration) -> Answer
where
    P: Future<Output = String>,
    R: Future<Output = String>,
{
    let _ = budget; // TODO: a deadline, and a rule for ties
    tokio::select! {
        a = primary => Answer::Primary(a),
        b = replica => Answer::Replica(b),
    }
}
