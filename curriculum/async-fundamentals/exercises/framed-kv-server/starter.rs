use std::collections::HashMap;
use std::sync::{Arc, Mutex};
#[allow(unused_imports)]
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
#[allow(unused_imports)]
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};
use tokio_util::sync::CancellationToken;
#[allow(unused_imports)]
use tokio_util::task::TaskTracker;

pub type Store = Arc<Mutex<HashMap<String, String>>>;

/// Longest request line, in bytes (without the newline).
pub const MAX_LINE: usize = 1024;

/// Runs one command line and returns the reply line (given: the protocol is
/// not the point of this exercise). `QUIT` answers `BYE`.
pub fn execute(store: &Store, line: &str) -> String {
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some("GET"), Some(key), None, None) => match store.lock().unwrap().get(key) {
            Some(value) => format!("VALUE {value}"),
            None => "NOT_FOUND".to_string(),
        },
        (Some("SET"), Some(key), Some(value), None) => {
            store.lock().unwrap().insert(key.to_string(), value.to_string());
            "OK".to_string()
        }
        (Some("QUIT"), None, None, None) => "BYE".to_string(),
        _ => format!("ERR unknown command: {line}"),
    }
}

/// Serves one connection: one command per line, one reply line each.
pub async fn serve_connection<T>(io: T, store: Store, shutdown: CancellationToken) -> Result<(), LinesCodecError>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let _ = (io, store, shutdown);
    todo!("frame the stream into lines, answer each with `execute`")
}

/// Accepts connections until `shutdown` is cancelled, then waits for the open
/// ones to finish. Returns the number of connections accepted.
pub async fn run(listener: TcpListener, store: Store, shutdown: CancellationToken) -> usize {
    let _ = (listener, store, shutdown);
    todo!("accept loop, one task per connection, graceful shutdown")
}
