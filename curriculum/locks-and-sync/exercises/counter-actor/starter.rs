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
    let _ = &mut rx;
    todo!("receive commands until shutdown or until every handle is dropped")
}

impl Counters {
    pub async fn add(&self, key: &str, delta: i64) -> Result<i64, ActorError> {
        let _ = (key, delta);
        todo!()
    }

    pub async fn get(&self, key: &str) -> Result<Option<i64>, ActorError> {
        let _ = key;
        todo!()
    }

    pub async fn shutdown(&self) -> Result<HashMap<String, i64>, ActorError> {
        todo!()
    }
}
