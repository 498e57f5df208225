//! Read caches for the hot paths (token checks and `GET /v1/resolve`).
//!
//! Entries are valid for one generation and at most `ttl`. Every write through this registry
//! bumps the generation, so this process never serves a stale answer after its own writes; other
//! replicas on the same PostgreSQL see a change within `ttl` (1 s by default).

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{
        RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// Most entries a cache holds before it starts over.
const MAX_ENTRIES: usize = 100_000;

pub struct Cache<K, V> {
    ttl: Duration,
    entries: RwLock<HashMap<K, (u64, Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Cache {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &K, generation: u64) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let (g, at, v) = entries.get(key)?;
        (*g == generation && at.elapsed() < self.ttl).then(|| v.clone())
    }

    pub fn put(&self, key: K, generation: u64, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (generation, Instant::now(), value));
    }
}

/// The generation counter all caches of a registry share.
#[derive(Default)]
pub struct Generation(AtomicU64);

impl Generation {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Invalidates every cached entry.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_die_with_their_generation() {
        let gen_ = Generation::default();
        let cache: Cache<&str, i32> = Cache::new(Duration::from_secs(60));
        cache.put("a", gen_.current(), 1);
        assert_eq!(cache.get(&"a", gen_.current()), Some(1));
        gen_.bump();
        assert_eq!(cache.get(&"a", gen_.current()), None);
        let off: Cache<&str, i32> = Cache::new(Duration::ZERO);
        off.put("a", 0, 1);
        assert_eq!(off.get(&"a", 0), None);
    }
}
