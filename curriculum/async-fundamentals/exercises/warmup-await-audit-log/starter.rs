use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// A price catalogue behind a (simulated) network call.
pub struct Catalog {
    prices: HashMap<String, u32>,
    lookups: Mutex<Vec<String>>,
}

impl Catalog {
    pub fn new(items: &[(&str, u32)]) -> Self {
        Catalog {
            prices: items.iter().map(|(sku, p)| (sku.to_string(), *p)).collect(),
            lookups: Mutex::new(Vec::new()),
        }
    }

    /// The price of one SKU, or `None` if the catalogue does not know it.
    /// Each call takes 10 ms.
    pub async fn price(&self, sku: &str) -> Option<u32> {
        tokio::time::sleep(Duration::from_millis(10)).await;
        self.lookups.lock().unwrap().push(sku.to_string());
        self.prices.get(sku).copied()
    }

    /// The SKUs looked up so far, in call order.
    pub fn lookups(&self) -> Vec<String> {
        self.lookups.lock().unwrap().clone()
    }
}

/// An append-only audit log behind a (simulated) network call.
#[derive(Default)]
pub struct AuditLog {
    lines: Mutex<Vec<String>>,
}

impl AuditLog {
    pub fn new() -> Self {
        AuditLog::default()
    }

    /// Appends one line. Each call takes 5 ms.
    pub async fn record(&self, line: String) {
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.lines.lock().unwrap().push(line);
    }

    /// Every line recorded so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSku(pub String);

/// Prices the cart one SKU after another, then records exactly one audit line:
/// `checkout ok: <n> items, total <t>` or `checkout failed: unknown sku <sku>`.
/// Stops at the first unknown SKU.
pub async fn checkout(cart: &[&str], catalog: &Catalog, audit: &AuditLog) -> Result<u32, UnknownSku> {
    let mut total = 0;
    for sku in cart {
        match catalog.price(sku).await {
            Some(price) => total += price,
            None => {
                let _ = audit.record(format!("checkout failed: unknown sku {sku}"));
                return Err(UnknownSku(sku.to_string()));
            }
        }
    }
    let _ = audit.record(format!("checkout ok: {} items, total {total}", cart.len()));
    Ok(total)
}
