use std::collections::HashMap;
use std::time::Duration;
use tokio::time::{Instant, timeout};
use warmup_oneshot_reply::*;

fn rates() -> HashMap<String, f64> {
    HashMap::from([("EUR".to_string(), 1.0), ("USD".to_string(), 1.08), ("GBP".to_string(), 0.85)])
}

#[tokio::test(start_paused = true)]
async fn a_service_that_dies_mid_request_is_reported_gone() {
    let (client, service) = spawn_rates_service(rates());
    let answer = timeout(Duration::from_secs(60), client.get("PANIC")).await.expect("get() hung");
    assert_eq!(answer, Err(ServiceGone));
    assert!(service.await.unwrap_err().is_panic());
}

#[tokio::test(start_paused = true)]
async fn clones_share_one_service_which_answers_in_turn() {
    let (client, _service) = spawn_rates_service(rates());
    let start = Instant::now();
    let calls = ["EUR", "USD", "GBP", "USD", "XAU"].map(|c| {
        let client = client.clone();
        async move { client.get(c).await }
    });
    let answers = timeout(Duration::from_secs(60), futures::future::join_all(calls)).await.expect("hung");
    assert_eq!(answers, vec![Ok(Some(1.0)), Ok(Some(1.08)), Ok(Some(0.85)), Ok(Some(1.08)), Ok(None)]);
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(50),
        "one task owns the rates and answers one request at a time: 5 x 10 ms"
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_queued_behind_shutdown_is_reported_gone() {
    let (client, _service) = spawn_rates_service(rates());
    let first = client.clone();
    let second = client.clone();
    // `biased;` polls the three in order, so the queue is: EUR, Shutdown, GBP.
    let (a, (), c) = tokio::join!(biased; first.get("EUR"), client.shutdown(), second.get("GBP"));
    assert_eq!(a, Ok(Some(1.0)));
    assert_eq!(c, Err(ServiceGone), "the service stopped before it reached this request");
}
