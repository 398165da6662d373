use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolError {
    Timeout,
}

pub struct Pool<T> {
    sem: Arc<Semaphore>,
    idle: Arc<Mutex<Vec<T>>>,
}

impl<T> Clone for Pool<T> {
    fn clone(&self) -> Self {
        Pool { sem: Arc::clone(&self.sem), idle: Arc::clone(&self.idle) }
    }
}

/// A checked-out item. Dropping it returns the item to the pool.
pub struct Pooled<T> {
    item: Option<T>,
    idle: Arc<Mutex<Vec<T>>>,
    // Declared (and therefore dropped) after `item` has been pushed back in Drop::drop.
    _permit: OwnedSemaphorePermit,
}

impl<T> Pool<T> {
    pub fn new(items: Vec<T>) -> Self {
        Pool { sem: Arc::new(Semaphore::new(items.len())), idle: Arc::new(Mutex::new(items)) }
    }

    pub fn idle(&self) -> usize {
        self.idle.lock().unwrap().len()
    }

    fn checkout(&self, permit: OwnedSemaphorePermit) -> Pooled<T> {
        // Invariant: holding a permit means at least one item is idle.
        let item = self.idle.lock().unwrap().pop().expect("a permit implies an idle item");
        Pooled { item: Some(item), idle: Arc::clone(&self.idle), _permit: permit }
    }

    pub async fn get(&self) -> Pooled<T> {
        // Cancel-safe: if this future is dropped while waiting, no permit was taken.
        let permit = Arc::clone(&self.sem).acquire_owned().await.expect("pool semaphore is never closed");
        self.checkout(permit)
    }

    pub fn try_get(&self) -> Option<Pooled<T>> {
        let permit = Arc::clone(&self.sem).try_acquire_owned().ok()?;
        Some(self.checkout(permit))
    }

    pub async fn get_timeout(&self, limit: Duration) -> Result<Pooled<T>, PoolError> {
        tokio::time::timeout(limit, self.get()).await.map_err(|_| PoolError::Timeout)
    }
}

impl<T> Deref for Pooled<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.item.as_ref().expect("item present until drop")
    }
}

impl<T> DerefMut for Pooled<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.item.as_mut().expect("item present until drop")
    }
}

impl<T> Drop for Pooled<T> {
    fn drop(&mut self) {
        if let Some(item) = self.item.take() {
            // A poisoned idle list would only mean another holder panicked mid-push;
            // the Vec itself is still valid, so recover rather than panic in drop.
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.push(item);
        }
        // `_permit` is dropped after this body: the item is back before a waiter wakes.
    }
}
