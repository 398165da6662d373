use crate::visible::{call, next_line};
use framed_kv_server::*;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Framed, LinesCodec};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn an_overlong_line_is_refused_and_the_connection_closed() {
    let (mut client, server) = tokio::io::duplex(4096);
    let conn = tokio::spawn(serve_connection(server, Store::default(), CancellationToken::new()));
    let long = format!("SET k {}\n", "x".repeat(2 * MAX_LINE));
    client.write_all(long.as_bytes()).await.unwrap();
    let mut client = Framed::new(client, LinesCodec::new());
    assert_eq!(next_line(&mut client).await.as_deref(), Some("ERR line too long"));
    assert_eq!(next_line(&mut client).await, None);
    conn.await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_says_bye_to_open_connections_and_stops_accepting() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(run(listener, Store::default(), shutdown.clone()));
    let mut idle = Framed::new(TcpStream::connect(addr).await.unwrap(), LinesCodec::new());
    assert_eq!(call(&mut idle, "SET a 1").await.as_deref(), Some("OK"));
    shutdown.cancel();
    assert_eq!(next_line(&mut idle).await.as_deref(), Some("BYE"));
    assert_eq!(next_line(&mut idle).await, None);
    let accepted = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("run did not return after shutdown")
        .unwrap();
    assert_eq!(accepted, 1);
    assert!(TcpStream::connect(addr).await.is_err(), "after run returns, nothing listens");
}
