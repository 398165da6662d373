use tokio::sync::{mpsc, oneshot, watch};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub greeting: String,
    /// Longest reply, in characters.
    pub max_len: usize,
}

impl Config {
    /// A config the service can run with.
    pub fn validate(&self) -> Result<(), String> {
        if self.greeting.trim().is_empty() {
            return Err("greeting is empty".into());
        }
        if self.max_len == 0 {
            return Err("max_len is 0".into());
        }
        Ok(())
    }

    /// The reply to `name`: "{greeting}, {name}", cut to `max_len` characters.
    pub fn render(&self, name: &str) -> String {
        format!("{}, {}", self.greeting, name).chars().take(self.max_len).collect()
    }
}

pub struct Request {
    pub name: String,
    pub reply: oneshot::Sender<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub served: u64,
    /// New configs that were valid and taken into use.
    pub reloads: u64,
    /// New configs that failed `validate` (the previous one stayed in use).
    pub rejected: u64,
}

/// Answers requests with the latest valid config until `requests` closes.
pub async fn serve(mut config: watch::Receiver<Config>, mut requests: mpsc::Receiver<Request>) -> Stats {
    // Clone out of the borrow: it holds a read lock on the channel's value and
    // must not live across an `.await`.
    let mut current = config.borrow_and_update().clone();
    let mut stats = Stats::default();
    let mut watching = true;
    loop {
        tokio::select! {
            // Config first: a config published before a request is waiting must
            // apply to that request.
            biased;
            changed = config.changed(), if watching => match changed {
                Ok(()) => {
                    // Only the latest value: intermediate versions are skipped.
                    let next = config.borrow_and_update().clone();
                    match next.validate() {
                        Ok(()) => {
                            current = next;
                            stats.reloads += 1;
                        }
                        Err(_) => stats.rejected += 1,
                    }
                }
                // Every sender is gone: keep the last config, stop watching
                // (`changed` would return this error at once, forever).
                Err(_) => watching = false,
            },
            request = requests.recv() => match request {
                Some(request) => {
                    let _ = request.reply.send(current.render(&request.name));
                    stats.served += 1;
                }
                None => return stats,
            },
        }
    }
}
