use tokio::sync::{mpsc, oneshot, watch};
use watch_config_reload::*;

fn config(greeting: &str, max_len: usize) -> Config {
    Config { greeting: greeting.into(), max_len }
}

async fn ask(requests: &mpsc::Sender<Request>, name: &str) -> String {
    let (reply, answer) = oneshot::channel();
    requests.send(Request { name: name.into(), reply }).await.unwrap();
    answer.await.expect("serve dropped the request without answering")
}

#[tokio::test]
async fn uses_the_initial_config() {
    let (_cfg, cfg_rx) = watch::channel(config("Hello", 40));
    let (req, req_rx) = mpsc::channel(8);
    let server = tokio::spawn(serve(cfg_rx, req_rx));
    assert_eq!(ask(&req, "Ana").await, "Hello, Ana");
    assert_eq!(ask(&req, "Bartholomew").await, "Hello, Bartholomew");
    drop(req);
    assert_eq!(server.await.unwrap(), Stats { served: 2, reloads: 0, rejected: 0 });
}

#[tokio::test]
async fn a_published_config_applies_to_the_next_request() {
    let (cfg, cfg_rx) = watch::channel(config("Hello", 40));
    let (req, req_rx) = mpsc::channel(8);
    let server = tokio::spawn(serve(cfg_rx, req_rx));
    assert_eq!(ask(&req, "Ana").await, "Hello, Ana");
    // Eight rounds: publish, then ask at once. Both are waiting when the server
    // wakes up; the config must win every time.
    for round in 1..=8 {
        let greeting = format!("Hi #{round}");
        cfg.send(config(&greeting, 40)).unwrap();
        assert_eq!(
            ask(&req, "Ana").await,
            format!("{greeting}, Ana"),
            "round {round}: the config was published before this request was sent"
        );
    }
    drop(req);
    assert_eq!(server.await.unwrap(), Stats { served: 9, reloads: 8, rejected: 0 });
}

#[tokio::test]
async fn an_invalid_config_is_rejected_and_the_previous_one_kept() {
    let (cfg, cfg_rx) = watch::channel(config("Hello", 40));
    let (req, req_rx) = mpsc::channel(8);
    let server = tokio::spawn(serve(cfg_rx, req_rx));
    assert_eq!(ask(&req, "Ana").await, "Hello, Ana");
    cfg.send(config("Hola", 0)).unwrap();
    assert_eq!(ask(&req, "Ana").await, "Hello, Ana", "max_len 0 is invalid: keep the old config");
    cfg.send(config("Hola", 6)).unwrap();
    assert_eq!(ask(&req, "Ana").await, "Hola, ");
    drop(req);
    assert_eq!(server.await.unwrap(), Stats { served: 3, reloads: 1, rejected: 1 });
}
