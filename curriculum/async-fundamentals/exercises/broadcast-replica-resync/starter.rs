use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::broadcast;
#[allow(unused_imports)]
use tokio::sync::broadcast::error::RecvError;

/// One change on the primary. `value: None` deletes the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub seq: u64,
    pub key: String,
    pub value: Option<i64>,
}

/// The whole map as of update number `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    pub seq: u64,
    pub entries: BTreeMap<String, i64>,
}

/// The primary owns the authoritative map and broadcasts every change.
pub struct Primary {
    state: Mutex<Snapshot>,
    tx: Mutex<Option<broadcast::Sender<Update>>>,
    snapshots: AtomicUsize,
}

impl Primary {
    /// A primary whose feed keeps `capacity` updates (rounded up to a power of two).
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Primary {
            state: Mutex::new(Snapshot::default()),
            tx: Mutex::new(Some(tx)),
            snapshots: AtomicUsize::new(0),
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.tx.lock().unwrap().as_ref().expect("primary closed").subscribe()
    }

    /// Applies one change, numbers it and broadcasts it. Returns its `seq`.
    pub fn set(&self, key: &str, value: Option<i64>) -> u64 {
        let mut state = self.state.lock().unwrap();
        state.seq += 1;
        match value {
            Some(v) => state.entries.insert(key.to_string(), v),
            None => state.entries.remove(key),
        };
        let update = Update { seq: state.seq, key: key.to_string(), value };
        if let Some(tx) = self.tx.lock().unwrap().as_ref() {
            let _ = tx.send(update); // no subscriber: nobody to tell
        }
        state.seq
    }

    /// The current map, as a follower gets it over the network (takes 5 ms).
    pub async fn snapshot(&self) -> Snapshot {
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.snapshots.fetch_add(1, Ordering::Relaxed);
        self.state.lock().unwrap().clone()
    }

    pub fn snapshots_served(&self) -> usize {
        self.snapshots.load(Ordering::Relaxed)
    }

    /// The authoritative map (for the tests).
    pub fn state(&self) -> Snapshot {
        self.state.lock().unwrap().clone()
    }

    /// Drops the sender: followers get the retained updates, then `Closed`.
    pub fn close(&self) {
        self.tx.lock().unwrap().take();
    }
}

/// A follower's copy of the map.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replica {
    pub state: Snapshot,
    /// Updates applied one by one (not counting what came in snapshots).
    pub applied: u64,
    /// Resynchronisations after the feed reported a lag.
    pub resyncs: u32,
    /// Updates the feed said this follower missed (the sum of `Lagged(n)`).
    pub missed: u64,
}

impl Replica {
    /// Applies `u` on top of the current state.
    pub fn apply(&mut self, u: &Update) {
        match u.value {
            Some(v) => self.state.entries.insert(u.key.clone(), v),
            None => self.state.entries.remove(&u.key),
        };
        self.state.seq = u.seq;
        self.applied += 1;
    }
}

/// Keeps a replica of `primary` up to date from `rx` (subscribed before this
/// call) until the feed closes, and returns it.
pub async fn follow(primary: &Primary, mut rx: broadcast::Receiver<Update>) -> Replica {
    let _ = primary;
    let mut replica = Replica::default();
    while let Ok(update) = rx.recv().await {
        replica.apply(&update);
    }
    replica
}
