use std::time::Duration;
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
async fn configs_published_in_a_burst_are_coalesced() {
    let (cfg, cfg_rx) = watch::channel(config("Hello", 40));
    let (req, req_rx) = mpsc::channel(8);
    let server = tokio::spawn(serve(cfg_rx, req_rx));
    assert_eq!(ask(&req, "Ana").await, "Hello, Ana");
    cfg.send(config("One", 40)).unwrap();
    cfg.send(config("", 40)).unwrap();
    cfg.send(config("Three", 40)).unwrap();
    assert_eq!(ask(&req, "Ana").await, "Three, Ana");
    drop(req);
    assert_eq!(
        server.await.unwrap(),
        Stats { served: 2, reloads: 1, rejected: 0 },
        "three sends before the server ran are one change: only the latest value is seen"
    );
}

#[tokio::test]
async fn keeps_serving_after_the_config_source_is_gone() {
    let (cfg, cfg_rx) = watch::channel(config("Hello", 40));
    let (req, req_rx) = mpsc::channel(8);
    let server = tokio::spawn(serve(cfg_rx, req_rx));
    assert_eq!(ask(&req, "Ana").await, "Hello, Ana");
    cfg.send(config("Ciao", 40)).unwrap();
    assert_eq!(ask(&req, "Ana").await, "Ciao, Ana");
    drop(cfg);
    for name in ["Bo", "Cy", "Di"] {
        let answer = tokio::time::timeout(Duration::from_secs(5), ask(&req, name))
            .await
            .expect("no answer after the config sender was dropped");
        assert_eq!(answer, format!("Ciao, {name}"));
    }
    drop(req);
    let stats = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve did not return after the request channel closed")
        .unwrap();
    assert_eq!(stats, Stats { served: 5, reloads: 1, rejected: 0 });
}
