use crate::visible::{call, next_line};
use framed_kv_server::*;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
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

#[tokio::test]
async fn run_waits_for_a_connection_that_is_still_writing() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let store = Store::default();
    store.lock().unwrap().insert("big".into(), "v".repeat(1000));
    let shutdown = CancellationToken::new();
    let mut server = tokio::spawn(run(listener, store.clone(), shutdown.clone()));
    // A client with a small receive buffer pipelines thousands of 1 KB replies
    // and reads none of them: the server's `send` ends up waiting (backpressure).
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let (read, mut write) = socket.connect(addr).await.unwrap().into_split();
    let writer = tokio::spawn(async move {
        let mut commands = String::new();
        for i in 0..8000 {
            commands.push_str(&format!("GET big\nSET progress {i}\n"));
        }
        let _ = write.write_all(commands.as_bytes()).await;
        write
    });
    // `SET progress i` shows how far the server got; wait until it stops moving.
    let progress = || store.lock().unwrap().get("progress").cloned();
    let (mut last, mut still) = (None, 0);
    while still < 5 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = progress();
        if now.is_some() && now == last {
            still += 1;
        } else {
            (last, still) = (now, 0);
        }
    }
    assert_ne!(last.as_deref(), Some("7999"), "8 MB of replies cannot all fit in the socket buffers");
    shutdown.cancel();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut server).await.is_err(),
        "run returned while a connection task was still writing a reply: wait for every \
         connection task to finish before returning"
    );
    // The client goes away: the pending write fails, the task ends, run returns.
    writer.abort();
    let _ = writer.await;
    drop(read);
    let accepted = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("run did not return after its last connection closed")
        .unwrap();
    assert_eq!(accepted, 1);
}
