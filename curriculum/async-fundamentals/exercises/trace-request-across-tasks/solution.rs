use std::time::Duration;
use tracing::{Instrument, Span, debug, info, instrument};

pub struct Request {
    pub id: u64,
    pub user_id: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    pub user: String,
    pub orders: usize,
}

/// Handles one request: loads the profile and the orders concurrently, on
/// their own tasks, and summarises them.
// `#[instrument]` enters the span on every poll and exits it at every
// `.await`, unlike a `span.enter()` guard held across awaits. `orders` is
// declared `Empty` so that it can be recorded once it is known.
#[instrument(
    skip(req),
    fields(request_id = req.id, user_id = req.user_id, orders = tracing::field::Empty)
)]
pub async fn handle(req: Request) -> Summary {
    info!("request received");
    // A spawned task starts with no current span: carry this one over, so the
    // `#[instrument]` spans of the callees are created as its children.
    let profile = tokio::spawn(load_profile(req.user_id).in_current_span());
    let orders = tokio::spawn(load_orders(req.user_id).in_current_span());
    let user = profile.await.expect("profile task panicked");
    let orders = orders.await.expect("orders task panicked");
    Span::current().record("orders", orders.len());
    info!("request done");
    Summary { user, orders: orders.len() }
}

#[instrument]
async fn load_profile(user_id: u64) -> String {
    tokio::time::sleep(Duration::from_millis(10)).await;
    debug!("profile loaded");
    format!("user-{user_id}")
}

#[instrument]
async fn load_orders(user_id: u64) -> Vec<u64> {
    tokio::time::sleep(Duration::from_millis(20)).await;
    let orders: Vec<u64> = (0..user_id % 5).collect();
    // A field, not text in the message: queryable, aggregatable.
    debug!(count = orders.len(), "orders loaded");
    orders
}
