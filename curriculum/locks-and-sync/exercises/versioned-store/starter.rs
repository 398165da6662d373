use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    NotFound,
    Conflict { expected: u64, actual: u64 },
    TooManyConflicts { attempts: u32 },
}

pub struct VersionedStore<T> {
    rows: Mutex<HashMap<String, Versioned<T>>>,
}

impl<T: Clone> VersionedStore<T> {
    pub fn new() -> Self {
        VersionedStore { rows: Mutex::new(HashMap::new()) }
    }

    /// Inserts (or replaces) a record unconditionally. Returns its new version.
    pub fn insert(&self, key: &str, value: T) -> u64 {
        let mut rows = self.rows.lock().unwrap();
        let version = rows.get(key).map_or(1, |r| r.version + 1);
        rows.insert(key.to_string(), Versioned { value, version });
        version
    }

    pub fn get(&self, key: &str) -> Option<Versioned<T>> {
        self.rows.lock().unwrap().get(key).cloned()
    }

    /// Writes `value` only if the record is still at `expected_version`.
    pub fn compare_and_set(&self, key: &str, expected_version: u64, value: T) -> Result<u64, StoreError> {
        let _ = (key, expected_version, value);
        todo!("NotFound / Conflict {{ expected, actual }} / Ok(new_version)")
    }
}

impl<T: Clone> Default for VersionedStore<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Read, compute with `f`, compare-and-set; on conflict, start again from a fresh read.
pub async fn update_with_retry<T, F, Fut>(
    store: &VersionedStore<T>,
    key: &str,
    max_attempts: u32,
    mut f: F,
) -> Result<Versioned<T>, StoreError>
where
    T: Clone,
    F: FnMut(T) -> Fut,
    Fut: Future<Output = T>,
{
    let _ = (store, key, max_attempts, &mut f);
    todo!("the optimistic retry loop")
}
