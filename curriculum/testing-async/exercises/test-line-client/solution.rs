//! Reference tests for `KvClient`, driven by scripted I/O.

use std::io;
use test_line_client::*;
use tokio_test::io::Builder;

#[tokio::test]
async fn get_returns_value() {
    let mock = Builder::new().write(b"GET color\r\n").read(b"VALUE blue\r\n").build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.get("color").await, Ok(Some("blue".to_string())));
}

#[tokio::test]
async fn get_notfound_is_none() {
    let mock = Builder::new().write(b"GET nope\r\n").read(b"NOTFOUND\r\n").build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.get("nope").await, Ok(None));
}

#[tokio::test]
async fn reply_split_across_reads() {
    // TCP may deliver a line in arbitrary pieces, even between '\r' and '\n'.
    let mock = Builder::new()
        .write(b"GET color\r\n")
        .read(b"VAL")
        .read(b"UE bl")
        .read(b"ue\r")
        .read(b"\n")
        .build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.get("color").await, Ok(Some("blue".to_string())), "a fragmented reply must be reassembled");
}

#[tokio::test]
async fn two_replies_in_one_read() {
    let mock = Builder::new()
        .write(b"GET a\r\n")
        .read(b"VALUE 1\r\nVALUE 2\r\n")
        .write(b"GET b\r\n")
        .build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.get("a").await, Ok(Some("1".into())));
    assert_eq!(client.get("b").await, Ok(Some("2".into())), "bytes after the first line must be kept for the next reply");
}

#[tokio::test]
async fn set_then_get_on_one_connection() {
    let mock = Builder::new()
        .write(b"SET color red\r\n")
        .read(b"OK\r\n")
        .write(b"GET color\r\n")
        .read(b"VALUE red\r\n")
        .build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.set("color", "red").await, Ok(()));
    assert_eq!(client.get("color").await, Ok(Some("red".into())));
}

#[tokio::test]
async fn server_error_is_reported() {
    let mock = Builder::new()
        .write(b"SET k v\r\n")
        .read(b"ERR read-only replica\r\n")
        .write(b"GET k\r\n")
        .read(b"ERR overloaded\r\n")
        .build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.set("k", "v").await, Err(KvError::Server("read-only replica".into())));
    assert_eq!(client.get("k").await, Err(KvError::Server("overloaded".into())));
}

#[tokio::test]
async fn unexpected_reply_is_protocol_error() {
    let mock = Builder::new().write(b"GET k\r\n").read(b"HELLO\r\n").build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.get("k").await, Err(KvError::Protocol("HELLO".into())));
}

#[tokio::test]
async fn connection_closed_before_reply() {
    let mock = Builder::new().write(b"GET k\r\n").build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.get("k").await, Err(KvError::Closed), "EOF is not NOTFOUND");
}

#[tokio::test]
async fn connection_closed_mid_line() {
    let mock = Builder::new().write(b"GET k\r\n").read(b"VALUE hal").build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.get("k").await, Err(KvError::Closed), "a partial line is not a reply");
}

#[tokio::test]
async fn read_error_is_propagated() {
    let mock = Builder::new()
        .write(b"GET k\r\n")
        .read_error(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
        .build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.get("k").await, Err(KvError::Io(io::ErrorKind::ConnectionReset)));
}

#[tokio::test]
async fn overlong_line_is_rejected() {
    let mut reply = b"VALUE ".to_vec();
    reply.extend(std::iter::repeat_n(b'x', 2 * MAX_LINE));
    let mock = Builder::new().write(b"GET big\r\n").read(&reply).build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.get("big").await, Err(KvError::TooLong));
}

#[tokio::test]
async fn line_of_exactly_max_len_is_accepted() {
    let value = "y".repeat(MAX_LINE - "VALUE ".len());
    let reply = format!("VALUE {value}\r\n");
    let mock = Builder::new().write(b"GET big\r\n").read(reply.as_bytes()).build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.get("big").await, Ok(Some(value)));
}
