use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderError {
    UnknownSku,
    OutOfStock,
    PaymentDeclined,
}

pub struct Inventory {
    stock: Mutex<HashMap<String, u32>>,
}

impl Inventory {
    pub fn new(items: &[(&str, u32)]) -> Self {
        let stock = items.iter().map(|(sku, n)| (sku.to_string(), *n)).collect();
        Inventory { stock: Mutex::new(stock) }
    }

    /// Current stock of `sku`, or `None` if it does not exist.
    pub fn stock(&self, sku: &str) -> Option<u32> {
        self.stock.lock().unwrap().get(sku).copied()
    }

    /// Takes one item of `sku`, charges the customer, and returns the stock left.
    pub async fn place_order<F>(&self, sku: &str, charge: F) -> Result<u32, OrderError>
    where
        F: Future<Output = bool>,
    {
        // 1. Reserve: check and decrement in ONE critical section.
        let remaining = {
            let mut stock = self.stock.lock().unwrap();
            let entry = stock.get_mut(sku).ok_or(OrderError::UnknownSku)?;
            if *entry == 0 {
                return Err(OrderError::OutOfStock);
            }
            *entry -= 1;
            *entry
        }; // guard dropped here, before the await

        // 2. Charge with no lock held: other orders proceed concurrently.
        if charge.await {
            Ok(remaining)
        } else {
            // 3. Compensate: give the reserved item back (a relative update, not a stale write).
            *self.stock.lock().unwrap().get_mut(sku).expect("sku cannot disappear") += 1;
            Err(OrderError::PaymentDeclined)
        }
    }
}
