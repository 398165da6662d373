use std::collections::HashMap;
use std::time::Duration;
use tokio::time::timeout;
use warmup_oneshot_reply::*;

fn rates() -> HashMap<String, f64> {
    HashMap::from([("EUR".to_string(), 1.0), ("USD".to_string(), 1.08), ("GBP".to_string(), 0.85)])
}

async fn within_a_minute<T>(fut: impl Future<Output = T>) -> T {
    timeout(Duration::from_secs(60), fut).await.expect("no answer within 60 s of virtual time")
}

#[tokio::test(start_paused = true)]
async fn a_known_currency_gets_its_rate() {
    let (client, _service) = spawn_rates_service(rates());
    assert_eq!(within_a_minute(client.get("USD")).await, Ok(Some(1.08)));
}

#[tokio::test(start_paused = true)]
async fn an_unknown_currency_is_none_not_an_error() {
    let (client, _service) = spawn_rates_service(rates());
    assert_eq!(within_a_minute(client.get("XAU")).await, Ok(None));
}

#[tokio::test(start_paused = true)]
async fn after_shutdown_a_call_reports_the_service_gone() {
    let (client, service) = spawn_rates_service(rates());
    client.shutdown().await;
    service.await.unwrap();
    assert_eq!(within_a_minute(client.get("USD")).await, Err(ServiceGone));
}
