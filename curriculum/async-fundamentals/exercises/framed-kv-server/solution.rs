use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};
use tokio_util::sync::CancellationToken;
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
    // The codec turns bytes into lines and bounds them: without a maximum, a
    // client that never sends '\n' makes the buffer grow until memory runs out.
    let mut lines = Framed::new(io, LinesCodec::new_with_max_length(MAX_LINE));
    loop {
        let next = tokio::select! {
            biased;
            // Between commands only: a command in progress is answered first.
            _ = shutdown.cancelled() => {
                lines.send("BYE").await?;
                return Ok(());
            }
            // `next()` is cancel safe here: a partial line stays in `lines`' buffer.
            next = lines.next() => next,
        };
        match next {
            None => return Ok(()), // the client closed its side
            Some(Err(LinesCodecError::MaxLineLengthExceeded)) => {
                lines.send("ERR line too long").await?;
                return Ok(());
            }
            Some(Err(e)) => return Err(e),
            Some(Ok(line)) => {
                let reply = execute(&store, &line);
                let quit = reply == "BYE";
                // `send` = feed + flush: it waits until the reply is written,
                // so a client that does not read stops us reading its next
                // command (backpressure) instead of queueing replies in memory.
                lines.send(reply).await?;
                if quit {
                    return Ok(());
                }
            }
        }
    }
}

/// Accepts connections until `shutdown` is cancelled, then waits for the open
/// ones to finish. Returns the number of connections accepted.
pub async fn run(listener: TcpListener, store: Store, shutdown: CancellationToken) -> usize {
    let tracker = TaskTracker::new();
    let mut accepted = 0;
    loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            conn = listener.accept() => match conn {
                Ok((stream, _peer)) => {
                    accepted += 1;
                    tracker.spawn(serve_connection(stream, store.clone(), shutdown.clone()));
                }
                // A failed accept (a reset before accept, out of file
                // descriptors) is not fatal to the server.
                Err(_) => continue,
            },
        }
    }
    drop(listener); // stop accepting: new connections are refused from here on
    tracker.close();
    tracker.wait().await; // every connection said BYE or was closed by its client
    accepted
}
