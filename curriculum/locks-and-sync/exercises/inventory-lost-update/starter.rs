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
        // Read the current stock (the guard is dropped at the end of this block).
        let available = {
            let stock = self.stock.lock().unwrap();
            *stock.get(sku).ok_or(OrderError::UnknownSku)?
        };
        if available == 0 {
            return Err(OrderError::OutOfStock);
        }

        // Take the payment. Other orders run while we wait here.
        if !charge.await {
            return Err(OrderError::PaymentDeclined);
        }

        // Write the new stock back.
        let remaining = available - 1;
        self.stock.lock().unwrap().insert(sku.to_string(), remaining);
        Ok(remaining)
    }
}
