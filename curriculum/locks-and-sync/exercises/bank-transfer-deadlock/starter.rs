use std::time::Duration;
use tokio::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferError {
    UnknownAccount,
    SameAccount,
    InsufficientFunds,
    Flagged,
}

pub struct Bank {
    accounts: Vec<Mutex<u64>>,
}

/// Simulated call to the fraud-detection service: takes 1 ms.
pub async fn fraud_check(amount: u64) -> Result<(), TransferError> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    if amount > 10_000 { Err(TransferError::Flagged) } else { Ok(()) }
}

impl Bank {
    pub fn new(balances: &[u64]) -> Self {
        Bank { accounts: balances.iter().map(|b| Mutex::new(*b)).collect() }
    }

    pub async fn balance(&self, id: usize) -> Option<u64> {
        Some(*self.accounts.get(id)?.lock().await)
    }

    /// Sum of all balances (locks every account, in index order).
    pub async fn total(&self) -> u64 {
        let mut sum = 0;
        for acc in &self.accounts {
            sum += *acc.lock().await;
        }
        sum
    }

    pub async fn transfer(&self, from: usize, to: usize, amount: u64) -> Result<(), TransferError> {
        let src_acc = self.accounts.get(from).ok_or(TransferError::UnknownAccount)?;
        let dst_acc = self.accounts.get(to).ok_or(TransferError::UnknownAccount)?;

        let mut src = src_acc.lock().await;
        if *src < amount {
            return Err(TransferError::InsufficientFunds);
        }
        fraud_check(amount).await?;
        let mut dst = dst_acc.lock().await;

        *src -= amount;
        *dst += amount;
        Ok(())
    }
}
