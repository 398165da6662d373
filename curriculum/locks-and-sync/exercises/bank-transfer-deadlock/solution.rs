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
        if from == to {
            // Locking the same (non-reentrant) mutex twice would wait forever.
            return Err(TransferError::SameAccount);
        }

        // The slow remote call needs no lock: do it first, so locks are held briefly.
        fraud_check(amount).await?;

        // Global lock order: lower index first, whatever the direction.
        let (first, second) = if from < to { (src_acc, dst_acc) } else { (dst_acc, src_acc) };
        let mut g1 = first.lock().await;
        let mut g2 = second.lock().await;
        let (src, dst) = if from < to { (&mut *g1, &mut *g2) } else { (&mut *g2, &mut *g1) };

        if *src < amount {
            return Err(TransferError::InsufficientFunds);
        }
        *src -= amount;
        *dst += amount;
        Ok(())
    }
}
