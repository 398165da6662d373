use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorError {
    /// The actor has stopped (shut down or crashed).
    Gone,
}

/// Messages understood by the actor.
pub enum Command {
    Add { key: String, delta: i64, reply: oneshot::Sender<i64> },
    Get { key: String, reply: oneshot::Sender<Option<i64>> },
    Shutdown { reply: oneshot::Sender<HashMap<String, i64>> },
}

/// Handle to the counters actor. Cheap to clone.
#[derive(Clone)]
pub struct Counters {
    tx: mpsc::Sender<Command>,
}

/// Starts the actor. The JoinHandle resolves to the final state when it stops.
pub fn spawn_counters() -> (Counters, JoinHandle<HashMap<String, i64>>) {
    let (tx, rx) = mpsc::channel(64);
    let actor = tokio::spawn(run(rx));
    (Counters { tx }, actor)
}

/// The actor loop: sole owner of the counters.
async fn run(mut rx: mpsc::Receiver<Command>) -> HashMap<String, i64> {
    let mut counters: HashMap<String, i64> = HashMap::new();
    // recv() returns None once every Sender (every handle) has been dropped.
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Command::Add { key, delta, reply } => {
                let value = counters.entry(key).or_insert(0);
                *value += delta;
                // The caller may have been cancelled; ignoring the send error is correct.
                let _ = reply.send(*value);
            }
            Command::Get { key, reply } => {
                let _ = reply.send(counters.get(&key).copied());
            }
            Command::Shutdown { reply } => {
                let _ = reply.send(counters.clone());
                break; // dropping `rx` makes every later send fail
            }
        }
    }
    counters
}

impl Counters {
    async fn request<R>(&self, make: impl FnOnce(oneshot::Sender<R>) -> Command) -> Result<R, ActorError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| ActorError::Gone)?;
        rx.await.map_err(|_| ActorError::Gone)
    }

    pub async fn add(&self, key: &str, delta: i64) -> Result<i64, ActorError> {
        self.request(|reply| Command::Add { key: key.to_string(), delta, reply }).await
    }

    pub async fn get(&self, key: &str) -> Result<Option<i64>, ActorError> {
        self.request(|reply| Command::Get { key: key.to_string(), reply }).await
    }

    pub async fn shutdown(&self) -> Result<HashMap<String, i64>, ActorError> {
        self.request(|reply| Command::Shutdown { reply }).await
    }
}
