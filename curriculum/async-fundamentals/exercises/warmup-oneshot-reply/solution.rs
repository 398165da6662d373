use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// What the rates service understands.
pub enum Request {
    /// Look up one currency; the answer goes back through `reply`.
    Get { currency: String, reply: oneshot::Sender<Option<f64>> },
    /// Stop serving.
    Shutdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceGone;

/// A cheap, cloneable handle to the rates service.
#[derive(Clone)]
pub struct RatesClient {
    requests: mpsc::Sender<Request>,
}

/// Starts the service: one task that owns the rates and answers requests
/// one at a time, 10 ms each. It stops on `Shutdown` or when every client
/// has been dropped. Looking up "PANIC" makes it panic (a bug in a
/// dependency, for the tests).
pub fn spawn_rates_service(rates: HashMap<String, f64>) -> (RatesClient, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Request>(16);
    let service = tokio::spawn(async move {
        while let Some(request) = rx.recv().await {
            match request {
                Request::Get { currency, reply } => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    assert_ne!(currency, "PANIC", "rates service bug");
                    // `oneshot::Sender::send` is not async: it hands the value
                    // over at once, or fails if the asker stopped waiting.
                    let _ = reply.send(rates.get(&currency).copied());
                }
                Request::Shutdown => break,
            }
        }
    });
    (RatesClient { requests: tx }, service)
}

impl RatesClient {
    /// Asks the service to stop; requests already queued behind this one are
    /// dropped unanswered.
    pub async fn shutdown(&self) {
        let _ = self.requests.send(Request::Shutdown).await;
    }

    /// The rate for `currency` (`Ok(None)` if the service does not know it),
    /// or `Err(ServiceGone)` if the service has stopped or stops before
    /// answering. Never panics.
    pub async fn get(&self, currency: &str) -> Result<Option<f64>, ServiceGone> {
        let (reply, answer) = oneshot::channel();
        let request = Request::Get { currency: currency.to_string(), reply };
        // Fails if the service task has ended and its Receiver is gone.
        self.requests.send(request).await.map_err(|_| ServiceGone)?;
        // Fails if the service dropped `reply` without answering.
        answer.await.map_err(|_| ServiceGone)
    }
}
