//! Tests for `KvClient`. Script the server's side of each conversation with
//! `tokio_test::io::Builder`: `.write(..)` is what the client must send,
//! `.read(..)` is what the server answers.

#[allow(unused_imports)] // you will need it for `.read_error(..)`
use std::io;
use test_line_client::*;
use tokio_test::io::Builder;

#[tokio::test]
async fn get_returns_value() {
    let mock = Builder::new().write(b"GET color\r\n").read(b"VALUE blue\r\n").build();
    let mut client = KvClient::new(mock);
    assert_eq!(client.get("color").await, Ok(Some("blue".to_string())));
}

// TODO: NOTFOUND is Ok(None).

// TODO: a reply split over several reads (try splitting between '\r' and '\n').

// TODO: two requests on one connection (SET then GET). What if both replies
//       arrive in a single read?

// TODO: `ERR <message>` replies, for both GET and SET.

// TODO: the peer closes the connection (before the reply, or in the middle
//       of a line), or the read fails: use `.read_error(io::Error::new(..))`.

// TODO: the MAX_LINE limit, on both sides of the boundary.
