//! Reference tests for `InventoryClient`, against a wiremock server on loopback.

use serde_json::json;
use test_http_client::*;
use wiremock::matchers::{bearer_token, body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "t0ken";

async fn setup() -> (MockServer, InventoryClient) {
    let server = MockServer::start().await;
    let client = InventoryClient::new(server.uri(), TOKEN);
    (server, client)
}

#[tokio::test]
async fn stock_returns_units() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v1/stock/sku-1"))
        .and(bearer_token(TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sku": "sku-1", "units": 4})))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.stock("sku-1").await, Ok(4));
}

#[tokio::test]
async fn stock_unknown_sku_is_not_found() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v1/stock/nope"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.stock("nope").await, Err(ApiError::NotFound), "404 must not look like an empty shelf");
}

#[tokio::test]
async fn stock_server_error_is_reported_with_status() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v1/stock/sku-1"))
        .respond_with(ResponseTemplate::new(500).set_body_string("<html>oops</html>"))
        .mount(&server)
        .await;
    assert_eq!(client.stock("sku-1").await, Err(ApiError::Server(500)));
}

#[tokio::test]
async fn stock_other_status_is_unexpected() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(418))
        .mount(&server)
        .await;
    assert_eq!(client.stock("sku-1").await, Err(ApiError::Unexpected(418)));
}

#[tokio::test]
async fn stock_bad_body_is_decode_error() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sku": "sku-1"})))
        .mount(&server)
        .await;
    assert_eq!(client.stock("sku-1").await, Err(ApiError::Decode));
}

#[tokio::test]
async fn reserve_posts_json_with_auth() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v1/reservations"))
        .and(bearer_token(TOKEN))
        .and(body_json(json!({"sku": "sku-1", "units": 2})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "r-1"})))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.reserve("sku-1", 2).await, Ok("r-1".to_string()));
}

#[tokio::test]
async fn reserve_conflict_is_insufficient_stock() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/v1/reservations"))
        .respond_with(ResponseTemplate::new(409))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(client.reserve("sku-1", 99).await, Err(ApiError::InsufficientStock));
}

#[tokio::test]
async fn reserve_server_error() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    assert_eq!(client.reserve("sku-1", 1).await, Err(ApiError::Server(503)));
}

#[tokio::test]
async fn unreachable_server_is_transport_error() {
    // Bind a port, then close it: nothing listens there any more.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let client = InventoryClient::new(format!("http://{addr}"), TOKEN);
    assert_eq!(client.stock("sku-1").await, Err(ApiError::Transport));
}
