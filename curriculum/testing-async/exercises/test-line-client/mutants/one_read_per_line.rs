//! treats whatever one read returns as a whole line (breaks on fragmented replies)
//! Client for a tiny line-based key-value protocol.
//!
//! Requests and replies are single lines terminated by "\r\n":
//!
//! ```text
//! C: GET <key>\r\n           S: VALUE <value>\r\n | NOTFOUND\r\n | ERR <message>\r\n
//! C: SET <key> <value>\r\n   S: OK\r\n | ERR <message>\r\n
//! ```

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Longest reply line accepted, not counting the trailing "\r\n".
pub const MAX_LINE: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvError {
    /// An I/O error from the underlying stream.
    Io(std::io::ErrorKind),
    /// The server closed the connection before a complete reply line arrived.
    Closed,
    /// The server answered `ERR <message>`.
    Server(String),
    /// The reply was not valid for the request (the offending line is included).
    Protocol(String),
    /// A reply line was longer than `MAX_LINE` bytes.
    TooLong,
}

impl From<std::io::Error> for KvError {
    fn from(e: std::io::Error) -> Self {
        KvError::Io(e.kind())
    }
}

pub struct KvClient<S> {
    stream: BufReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> KvClient<S> {
    pub fn new(stream: S) -> Self {
        KvClient { stream: BufReader::new(stream) }
    }

    /// `GET key`: `Ok(Some(value))` for `VALUE`, `Ok(None)` for `NOTFOUND`.
    pub async fn get(&mut self, key: &str) -> Result<Option<String>, KvError> {
        self.send(&format!("GET {key}\r\n")).await?;
        let line = self.read_reply().await?;
        if line == "NOTFOUND" {
            Ok(None)
        } else if let Some(value) = line.strip_prefix("VALUE ") {
            Ok(Some(value.to_string()))
        } else {
            Err(Self::other(line))
        }
    }

    /// `SET key value`: `Ok(())` when the server answers `OK`.
    pub async fn set(&mut self, key: &str, value: &str) -> Result<(), KvError> {
        self.send(&format!("SET {key} {value}\r\n")).await?;
        let line = self.read_reply().await?;
        if line == "OK" { Ok(()) } else { Err(Self::other(line)) }
    }

    fn other(line: String) -> KvError {
        match line.strip_prefix("ERR ") {
            Some(msg) => KvError::Server(msg.to_string()),
            None => KvError::Protocol(line),
        }
    }

    async fn send(&mut self, request: &str) -> Result<(), KvError> {
        let stream = self.stream.get_mut();
        stream.write_all(request.as_bytes()).await?;
        stream.flush().await?;
        Ok(())
    }

    /// Reads one reply line and strips its "\r\n".
    async fn read_reply(&mut self) -> Result<String, KvError> {
        let chunk = self.stream.fill_buf().await?;
        let end = chunk.iter().position(|&b| b == b'\n').map(|i| i + 1).unwrap_or(chunk.len());
        let mut buf = chunk[..end].to_vec();
        self.stream.consume(end);
        if !buf.ends_with(b"\n") && !buf.is_empty() {
            buf.push(b'\n');
        }
        let limit = (MAX_LINE + 2) as u64;
        if !buf.ends_with(b"\n") {
            return Err(if buf.len() as u64 == limit { KvError::TooLong } else { KvError::Closed });
        }
        buf.pop();
        if buf.ends_with(b"\r") {
            buf.pop();
        }
        String::from_utf8(buf).map_err(|e| KvError::Protocol(String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }
}
