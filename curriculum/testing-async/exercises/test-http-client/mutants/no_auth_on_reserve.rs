//! forgets the Authorization header on POST /v1/reservations
//! A small client for an inventory service's HTTP API.
//!
//! ```text
//! GET  {base}/v1/stock/{sku}      200 {"sku": "...", "units": 4}  | 404 unknown sku
//! POST {base}/v1/reservations     body {"sku": "...", "units": 2}
//!                                 201 {"id": "r-1"} | 409 not enough stock
//! ```
//! Every request carries `Authorization: Bearer <token>`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 404 from the stock endpoint: the SKU does not exist.
    NotFound,
    /// 409 from the reservation endpoint.
    InsufficientStock,
    /// Any 5xx status; worth retrying later.
    Server(u16),
    /// Any other unexpected status.
    Unexpected(u16),
    /// A 2xx response whose body did not have the documented shape.
    Decode,
    /// The request never got a response (connection refused, timeout...).
    Transport,
}

pub struct InventoryClient {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

#[derive(Deserialize)]
struct Stock {
    units: u32,
}

#[derive(Serialize)]
struct ReservationRequest<'a> {
    sku: &'a str,
    units: u32,
}

#[derive(Deserialize)]
struct Reservation {
    id: String,
}

impl InventoryClient {
    /// `base_url` without a trailing slash, e.g. `http://127.0.0.1:8080`.
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        InventoryClient { http: reqwest::Client::new(), base_url: base_url.into(), token: token.into() }
    }

    /// Units in stock for `sku`.
    pub async fn stock(&self, sku: &str) -> Result<u32, ApiError> {
        let resp = self
            .http
            .get(format!("{}/v1/stock/{sku}", self.base_url))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|_| ApiError::Transport)?;
        match resp.status().as_u16() {
            200 => resp.json::<Stock>().await.map(|s| s.units).map_err(|_| ApiError::Decode),
            404 => Err(ApiError::NotFound),
            s => Err(status_error(s)),
        }
    }

    /// Reserves `units` of `sku`; returns the reservation id.
    pub async fn reserve(&self, sku: &str, units: u32) -> Result<String, ApiError> {
        let resp = self
            .http
            .post(format!("{}/v1/reservations", self.base_url))
            .json(&ReservationRequest { sku, units })
            .send()
            .await
            .map_err(|_| ApiError::Transport)?;
        match resp.status().as_u16() {
            201 => resp.json::<Reservation>().await.map(|r| r.id).map_err(|_| ApiError::Decode),
            409 => Err(ApiError::InsufficientStock),
            s => Err(status_error(s)),
        }
    }
}

fn status_error(status: u16) -> ApiError {
    if (500..600).contains(&status) { ApiError::Server(status) } else { ApiError::Unexpected(status) }
}
