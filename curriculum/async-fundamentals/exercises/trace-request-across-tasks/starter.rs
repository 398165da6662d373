use std::time::Duration;
#[allow(unused_imports)]
use tracing::{Instrument, Span, debug, info, info_span, instrument};

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
pub async fn handle(req: Request) -> Summary {
    let span = info_span!("handle", request_id = req.id, user_id = req.user_id);
    let _guard = span.enter();
    info!("request received");
    let profile = tokio::spawn(load_profile(req.user_id));
    let orders = tokio::spawn(load_orders(req.user_id));
    let user = profile.await.expect("profile task panicked");
    let orders = orders.await.expect("orders task panicked");
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
    debug!("loaded {} orders", orders.len());
    orders
}
