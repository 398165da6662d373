//! Tests for `InventoryClient`. Each test starts its own wiremock server on
//! 127.0.0.1 (random port) and points the client at `server.uri()`.

use serde_json::json;
use test_http_client::*;
#[allow(unused_imports)] // you will want these
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
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sku": "sku-1", "units": 4})))
        .mount(&server)
        .await;
    assert_eq!(client.stock("sku-1").await, Ok(4));
    // TODO: this mock answers *any* GET. Tighten it so that a client using the
    //       wrong path or forgetting the token would not get a 200.
}

// TODO: GET: 404, a 5xx, some other status, a 200 with a body of the wrong shape.

// TODO: POST /v1/reservations: check the path, the token and the exact JSON
//       body; then the 409 and 5xx cases.

// TODO (optional): what does the client return when nothing listens at all?
