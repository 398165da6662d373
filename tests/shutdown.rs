//! Stopping a web node: one shutdown stops the server, and pages that keep
//! a live connection open (the event stream) are closed by it rather than
//! holding the graceful shutdown until its deadline.

mod common;

use std::time::{Duration, Instant};

use common::auth::signed_in;
use common::spawn_app;
use lockstep::auth::Role;

#[tokio::test]
async fn shutdown_ends_open_event_streams_at_once() {
    let app = spawn_app().await;
    let (learner, _) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let mut stream = learner.get("/api/events").await;
    assert!(stream.status().is_success());
    assert!(
        stream.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );

    let stopped = Instant::now();
    drop(app); // cancels the app's one Shutdown
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        // Whatever is still in flight (a keep-alive comment) may arrive first.
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the event stream was still open {:?} after shutdown began",
        stopped.elapsed()
    );
}

#[tokio::test]
async fn a_sigterm_right_after_listening_begins_is_caught_not_fatal() {
    // On this current-thread runtime the listening task has not run yet
    // when the signal comes: only listeners registered by `on_signals`
    // itself catch it. Without them the default action ends this process.
    let shutdown = lockstep::shutdown::Shutdown::new();
    let _listening = shutdown.on_signals();
    nix::sys::signal::raise(nix::sys::signal::Signal::SIGTERM).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), shutdown.cancelled())
        .await
        .expect("SIGTERM begins the shutdown");
}
