//! Open segment files, on demand: a small least-recently-used cache of descriptors, so the
//! number of open files stays bounded however many segments the data directory holds.
//!
//! A segment's footer is read once at start and kept in memory; its file is opened only when a
//! query or a compaction reads one of its blocks, and closed again when others push it out of
//! the cache. The cache is sized from the process' open-file limit (a quarter of it, at most
//! `MAX_OPEN`), leaving the rest to connections, the WAL and the agent.

use std::fs::File;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;

/// The most segment files kept open at once.
pub const MAX_OPEN: usize = 128;

pub struct FileCache {
    open: Mutex<lru::LruCache<u64, Arc<File>>>,
    capacity: usize,
}

impl FileCache {
    pub fn new(capacity: usize) -> FileCache {
        let capacity = capacity.max(1);
        FileCache { open: Mutex::new(lru::LruCache::new(NonZeroUsize::new(capacity).unwrap())), capacity }
    }

    /// A cache sized from the soft `RLIMIT_NOFILE` of this process.
    pub fn sized_for_process() -> FileCache {
        FileCache::new((open_file_limit() / 4).clamp(4, MAX_OPEN as u64) as usize)
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The open file of segment `id`, opened now if it is not in the cache.
    pub fn get(&self, id: u64, path: &Path) -> std::io::Result<Arc<File>> {
        if let Some(f) = self.open.lock().get(&id) {
            return Ok(f.clone());
        }
        // Opened outside the lock: a slow disk must not stall every other reader.
        let f = Arc::new(File::open(path)?);
        self.open.lock().put(id, f.clone());
        Ok(f)
    }

    /// Closes segment `id`'s file (it is being deleted).
    pub fn forget(&self, id: u64) {
        self.open.lock().pop(&id);
    }

    pub fn len(&self) -> usize {
        self.open.lock().len()
    }
}

/// The soft limit on open files of this process.
pub fn open_file_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    lim.rlim_cur
}

/// Raises the soft open-file limit to the hard limit, as Go programs do at start. Returns the
/// (soft, hard) limits now in force.
pub fn raise_open_file_limit() -> (u64, u64) {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit read and write a struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return (0, 0);
        }
        if lim.rlim_cur < lim.rlim_max {
            let want = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    (lim.rlim_cur, lim.rlim_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_capacity_open() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::new(3);
        for id in 0..10u64 {
            let p = dir.path().join(format!("{id}"));
            std::fs::write(&p, b"x").unwrap();
            cache.get(id, &p).unwrap();
        }
        assert_eq!(cache.len(), 3);
        cache.forget(9);
        assert_eq!(cache.len(), 2);
    }
}
