//! series_key: label sets for metrics, and the keys that identify a series.
//!
//! Cargo.toml:
//!
//! ```toml
//! [features]
//! preserve-order = []    # render labels in the order they were added
//! fast-fingerprint = []  # a faster fingerprint for high-cardinality ingest
//! ```
//!
//! This build has both features on, as in the service that links the
//! dashboard crate (which asked for `preserve-order`), the ingest crate
//! (`fast-fingerprint`) and the alerting crate (no features) together.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    /// In the order they were added; a key appears once.
    pairs: Vec<(String, String)>,
}

impl Labels {
    pub fn new() -> Self {
        Labels::default()
    }

    /// Adds `key=value`; a later value for the same key replaces the earlier one.
    pub fn with(mut self, key: &str, value: &str) -> Self {
        match self.pairs.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value.to_string(),
            None => self.pairs.push((key.to_string(), value.to_string())),
        }
        self
    }

    /// `k1=v1,k2=v2`, keys in sorted order: the canonical form of a series.
    pub fn render(&self) -> String {
        #[cfg(feature = "preserve-order")]
        {
            return self.render_in_insertion_order();
        }
        #[cfg(not(feature = "preserve-order"))]
        {
            let mut pairs: Vec<_> = self.pairs.iter().collect();
            pairs.sort();
            join(pairs.into_iter())
        }
    }

    /// A stable 64-bit key of the series: FNV-1a over `render()`. Alerting
    /// stores it to deduplicate alerts across restarts, so it must never change.
    pub fn fingerprint(&self) -> u64 {
        #[cfg(feature = "fast-fingerprint")]
        {
            return self.fingerprint_fast();
        }
        #[cfg(not(feature = "fast-fingerprint"))]
        {
            fnv1a(self.render().as_bytes())
        }
    }

    /// `k1=v1,k2=v2` in the order the labels were added.
    #[cfg(feature = "preserve-order")]
    pub fn render_in_insertion_order(&self) -> String {
        join(self.pairs.iter())
    }

    /// A fast in-process key: independent of insertion order, not stable
    /// across versions of this crate. Never persist it.
    #[cfg(feature = "fast-fingerprint")]
    pub fn fingerprint_fast(&self) -> u64 {
        self.pairs.iter().fold(0u64, |acc, (k, v)| {
            let mut h = 0xcbf2_9ce4_8422_2325u64;
            for b in k.bytes().chain([b'=']).chain(v.bytes()) {
                h = (h ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            }
            acc ^ h // xor: the order of the pairs does not matter
        })
    }
}

fn join<'a>(pairs: impl Iterator<Item = &'a (String, String)>) -> String {
    pairs.map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}
