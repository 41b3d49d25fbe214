//! Blocks of evicted segments, fetched from the bucket with ranged reads and kept in memory,
//! least recently used first out, up to a byte bound.

use std::sync::Arc;

use parking_lot::Mutex;

type Key = (u64, u64);

pub struct BlockCache {
    inner: Mutex<Inner>,
    capacity: u64,
}

struct Inner {
    lru: lru::LruCache<Key, Arc<Vec<u8>>>,
    bytes: u64,
}

impl BlockCache {
    pub fn new(capacity: u64) -> BlockCache {
        BlockCache { inner: Mutex::new(Inner { lru: lru::LruCache::unbounded(), bytes: 0 }), capacity }
    }

    /// The cached bytes of segment `seg`'s block at `offset`.
    pub fn get(&self, seg: u64, offset: u64) -> Option<Arc<Vec<u8>>> {
        self.inner.lock().lru.get(&(seg, offset)).cloned()
    }

    /// Whether the block is cached (its place in the order unchanged).
    pub fn contains(&self, seg: u64, offset: u64) -> bool {
        self.inner.lock().lru.contains(&(seg, offset))
    }

    /// The most it holds, in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    pub fn insert(&self, seg: u64, offset: u64, data: Arc<Vec<u8>>) {
        let len = data.len() as u64;
        if len > self.capacity {
            return;
        }
        let mut inner = self.inner.lock();
        if let Some(old) = inner.lru.put((seg, offset), data) {
            inner.bytes -= old.len() as u64;
        }
        inner.bytes += len;
        while inner.bytes > self.capacity {
            let Some((_, v)) = inner.lru.pop_lru() else { break };
            inner.bytes -= v.len() as u64;
        }
    }

    /// Bytes held now.
    pub fn bytes(&self) -> u64 {
        self.inner.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_its_capacity_least_recent_out() {
        let c = BlockCache::new(100);
        c.insert(1, 0, Arc::new(vec![0; 40]));
        c.insert(1, 40, Arc::new(vec![0; 40]));
        assert!(c.get(1, 0).is_some()); // now the most recent
        c.insert(2, 0, Arc::new(vec![0; 40]));
        assert!(c.bytes() <= 100);
        assert!(c.get(1, 0).is_some());
        assert!(c.get(1, 40).is_none());
        c.insert(3, 0, Arc::new(vec![0; 101]));
        assert!(c.get(3, 0).is_none());
    }
}
