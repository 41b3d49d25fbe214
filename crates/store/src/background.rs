//! The store's background work: flushing when the heads are due (backing off while flushes
//! fail), retention every minute or after a reload, compaction on its own thread; and the
//! back-pressure pushes wait on while the flusher is behind.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::{Store, now_ns};

impl Store {
    /// Starts the background work: flushes when due (backing off while they fail), retention
    /// every minute, and compaction on its own thread every `compaction_interval`. The threads
    /// stop when the store is dropped.
    pub fn spawn_background(self: &Arc<Self>) -> std::thread::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        {
            let weak = weak.clone();
            std::thread::Builder::new()
                .name("store-compactor".into())
                .spawn(move || {
                    let interval = |w: &std::sync::Weak<Store>| w.upgrade().map(|s| s.cfg.load().compaction_interval.0);
                    let mut backoff = Duration::ZERO;
                    loop {
                        // The interval is read each time: a reload may change it (0s: paused).
                        let Some(every) = interval(&weak) else { return };
                        if every.is_zero() {
                            std::thread::sleep(Duration::from_millis(200));
                            continue;
                        }
                        let backoff_now = backoff.max(every);
                        // Sleep in short steps so a dropped store ends the thread promptly, and
                        // a reload to a shorter interval takes effect at once.
                        let slept = Instant::now();
                        loop {
                            let Some(every) = interval(&weak) else { return };
                            let wait = if backoff.is_zero() { every } else { backoff_now };
                            if every.is_zero() || slept.elapsed() >= wait {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(200));
                        }
                        if interval(&weak).is_some_and(|e| e.is_zero()) {
                            continue;
                        }
                        let Some(store) = weak.upgrade() else { return };
                        match store.compact() {
                            Ok(_) => backoff = Duration::ZERO,
                            Err(e) => {
                                backoff = (backoff_now * 2).min(every * 16);
                                tracing::error!(error = %e, retry_in_s = backoff.as_secs(), "compaction failed; the segments stay as they are");
                            }
                        }
                    }
                })
                .expect("spawn store compactor thread");
        }
        if self.tier.is_some() {
            let weak = weak.clone();
            std::thread::Builder::new()
                .name("store-bucket".into())
                .spawn(move || {
                    let mut failures = 0u32;
                    let mut next = Instant::now();
                    loop {
                        let Some(store) = weak.upgrade() else { return };
                        {
                            // A flush or compaction wakes it early, unless it is backing off.
                            let mut due = store.bucket_wake.0.lock();
                            let ready = |due: bool| Instant::now() >= next || (due && failures == 0);
                            if !ready(*due) {
                                let left = next.saturating_duration_since(Instant::now());
                                store.bucket_wake.1.wait_for(&mut due, left.min(Duration::from_millis(500)));
                            }
                            if !ready(*due) {
                                continue;
                            }
                            *due = false;
                        }
                        match store.sync_bucket() {
                            Ok(_) => {
                                failures = 0;
                                next = Instant::now() + store.cfg.load().object_store.sync_interval.0;
                                if store.bucket_failing.swap(false, Ordering::Relaxed) {
                                    tracing::info!("object storage reachable again; uploads resumed");
                                }
                            }
                            Err(e) => {
                                failures += 1;
                                next = Instant::now() + Duration::from_secs((1u64 << failures.min(5)).min(30));
                                if !store.bucket_failing.swap(true, Ordering::Relaxed) {
                                    tracing::error!(error = %e, "object storage: sync failed; segments stay local and uploads are retried");
                                } else {
                                    tracing::debug!(error = %e, "object storage: still failing");
                                }
                            }
                        }
                    }
                })
                .expect("spawn store bucket thread");
        }
        std::thread::Builder::new()
            .name("store-background".into())
            .spawn(move || {
                let mut last_retention = Instant::now() - Duration::from_secs(3600);
                let mut backoff = Duration::ZERO;
                let mut next_flush = Instant::now();
                let mut last_trim = Instant::now();
                // When the last flush was, if its freed memory was not handed back since.
                let mut flushed_at: Option<Instant> = None;
                loop {
                    let Some(store) = weak.upgrade() else { return };
                    {
                        let mut due = store.flush_wake.0.lock();
                        if !*due {
                            store.flush_wake.1.wait_for(&mut due, Duration::from_millis(500));
                        }
                        *due = false;
                    }
                    if Instant::now() >= next_flush && store.flush_due() {
                        match store.flush() {
                            Ok(()) => {
                                backoff = Duration::ZERO;
                                flushed_at = Some(Instant::now());
                            }
                            Err(e) => {
                                backoff = (backoff * 2).clamp(Duration::from_secs(1), Duration::from_secs(60));
                                next_flush = Instant::now() + backoff;
                                tracing::error!(error = %e, retry_in_s = backoff.as_secs(), "flush failed; the data stays in the WAL and will be retried");
                            }
                        }
                    }
                    // Once flushes pause: ingesting at full speed, the pages a flush frees (the
                    // heads it cut) are taken again by the next pushes at once, and handing them
                    // back at every flush only costs page faults (the peak is the same).
                    // Otherwise every few seconds: the allocator no longer trims by itself
                    // (bitacora's `memory::tune`), and a query's freed buffers go back too.
                    if flushed_at.is_some_and(|t| t.elapsed() >= FLUSH_PAUSE) || last_trim.elapsed() >= IDLE_TRIM {
                        release_freed_memory();
                        last_trim = Instant::now();
                        flushed_at = None;
                    }
                    if last_retention.elapsed() >= Duration::from_secs(60)
                        || store.retention_due.swap(false, Ordering::Relaxed)
                    {
                        last_retention = Instant::now();
                        store.apply_retention(now_ns());
                    }
                }
            })
            .expect("spawn store background thread")
    }

    /// Asks the bucket thread to sync now.
    pub(crate) fn wake_bucket(&self) {
        if self.tier.is_some() {
            *self.bucket_wake.0.lock() = true;
            self.bucket_wake.1.notify_one();
        }
    }

    /// Asks the background thread to flush now.
    pub(crate) fn wake_flusher(&self) {
        *self.flush_wake.0.lock() = true;
        self.flush_wake.1.notify_one();
    }

    /// Backpressure: while the heads hold more than twice `flush_bytes` (the flusher is behind),
    /// a push waits for a flush to finish, so memory stays bounded. Gives up waiting after 30 s.
    pub(crate) fn wait_for_room(&self) {
        if self.space.is_full() {
            return; // the flusher cannot make room; the WAL append decides (507)
        }
        // What is being cut counts: the heads in memory, new and being written, stay within
        // one and a half times the flush size.
        let limit = self.cfg.load().flush_bytes.saturating_mul(3) / 2;
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut inner = self.inner.lock();
        while inner.head_bytes + inner.flushing_bytes > limit && Instant::now() < deadline {
            self.wake_flusher_locked();
            self.flushed.wait_for(&mut inner, Duration::from_millis(100));
        }
    }

    fn wake_flusher_locked(&self) {
        if let Some(mut due) = self.flush_wake.0.try_lock() {
            *due = true;
            self.flush_wake.1.notify_one();
        }
    }
}

/// How often freed memory is handed back when no flush did it.
const IDLE_TRIM: Duration = Duration::from_secs(5);
/// How long flushes pause before the memory they freed is handed back.
const FLUSH_PAUSE: Duration = Duration::from_secs(1);

/// Hands the pages the flush freed (the heads it cut, its blocks) back to the kernel: glibc
/// keeps freed memory in its arenas otherwise, and the process's RSS stays at its peak.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's arenas to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
