use framed_kv_server::*;
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Framed, LinesCodec};
use tokio_util::sync::CancellationToken;

pub(crate) type Client<T> = Framed<T, LinesCodec>;

/// Sends one line and returns the reply line (`None`: the server closed).
pub(crate) async fn call<T>(client: &mut Client<T>, line: &str) -> Option<String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    client.send(line).await.expect("send");
    next_line(client).await
}

pub(crate) async fn next_line<T>(client: &mut Client<T>) -> Option<String>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    tokio::time::timeout(Duration::from_secs(5), client.next())
        .await
        .expect("no reply within 5 s")
        .map(|r| r.expect("a reply line"))
}

#[tokio::test]
async fn answers_commands_over_an_in_memory_stream() {
    let (client, server) = tokio::io::duplex(256);
    let store = Store::default();
    let conn = tokio::spawn(serve_connection(server, store.clone(), CancellationToken::new()));
    let mut client = Framed::new(client, LinesCodec::new());
    assert_eq!(call(&mut client, "SET lang rust").await.as_deref(), Some("OK"));
    assert_eq!(call(&mut client, "GET lang").await.as_deref(), Some("VALUE rust"));
    assert_eq!(call(&mut client, "GET nope").await.as_deref(), Some("NOT_FOUND"));
    assert_eq!(call(&mut client, "FLY away").await.as_deref(), Some("ERR unknown command: FLY away"));
    drop(client);
    conn.await.unwrap().expect("a client closing its side is a normal end");
    assert_eq!(store.lock().unwrap().get("lang").map(String::as_str), Some("rust"));
}

#[tokio::test]
async fn quit_says_bye_and_closes() {
    let (client, server) = tokio::io::duplex(256);
    let conn = tokio::spawn(serve_connection(server, Store::default(), CancellationToken::new()));
    let mut client = Framed::new(client, LinesCodec::new());
    assert_eq!(call(&mut client, "QUIT").await.as_deref(), Some("BYE"));
    assert_eq!(next_line(&mut client).await, None, "after BYE the server closes the stream");
    conn.await.unwrap().unwrap();
}

#[tokio::test]
async fn serves_concurrent_clients_over_loopback() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(run(listener, Store::default(), shutdown.clone()));
    let mut a = Framed::new(TcpStream::connect(addr).await.unwrap(), LinesCodec::new());
    let mut b = Framed::new(TcpStream::connect(addr).await.unwrap(), LinesCodec::new());
    assert_eq!(call(&mut a, "SET k from-a").await.as_deref(), Some("OK"));
    // b is served while a is still connected: one task per connection.
    assert_eq!(call(&mut b, "GET k").await.as_deref(), Some("VALUE from-a"));
    drop((a, b));
    shutdown.cancel();
    let accepted = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("run did not return after shutdown")
        .unwrap();
    assert_eq!(accepted, 2);
}
