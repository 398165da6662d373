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
    _permit: OwnedSemaphorePermit,
}

impl<T> Pool<T> {
    pub fn new(items: Vec<T>) -> Self {
        let _ = items;
        todo!("one permit per item, items in the idle list")
    }

    pub fn idle(&self) -> usize {
        todo!()
    }

    pub async fn get(&self) -> Pooled<T> {
        todo!("wait for a permit, then take an idle item")
    }

    pub fn try_get(&self) -> Option<Pooled<T>> {
        todo!()
    }

    pub async fn get_timeout(&self, limit: Duration) -> Result<Pooled<T>, PoolError> {
        let _ = limit;
        todo!()
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
        // TODO: give the item back to the pool.
    }
}
