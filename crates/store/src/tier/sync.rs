//! One pass of keeping the bucket in step with the store, in an order that never leaves the
//! bucket without a line the store acknowledged:
//!
//! 1. compaction manifests are put first (a node that lost its disk reads them to tell a
//!    compaction's inputs from its outputs, see `adopt.rs`);
//! 2. segments not yet in the bucket are uploaded, then their `.remote` marker is written;
//! 3. only when nothing is left to upload are retired segments' objects deleted (a compaction's
//!    outputs are in the bucket before its inputs leave it), `delete_delay` after they were
//!    retired (other nodes read them from listings a few seconds old), and finished manifests
//!    after them;
//! 4. uploaded segment files beyond `cache_bytes` are evicted from the local disk, oldest data
//!    first; their footers stay, and their blocks are fetched when a query needs them.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::segment::Segment;
use crate::tier::{self, marker};
use crate::{Store, StoreError};

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Synced {
    pub uploaded: usize,
    pub uploaded_bytes: u64,
    pub deleted: usize,
    pub evicted: usize,
    /// Segments still to upload after the pass (0 when it succeeded).
    pub pending: usize,
}

impl Store {
    /// Uploads, deletes and evicts (see the module doc). Without a bucket, does nothing.
    pub fn sync_bucket(&self) -> Result<Synced, StoreError> {
        let Some(tier) = self.tier.clone() else { return Ok(Synced::default()) };
        let _one = self.sync_lock.lock();
        let mut done = Synced::default();
        let fail = |what: &str, e: std::io::Error| StoreError::Bucket(format!("{what} ({}): {e}", tier.describe()));
        if !tier.adopted.load(Ordering::Acquire) {
            self.adopt(&tier)?;
        }

        // The segments to upload, taken before the manifests: a compaction registers its
        // manifest before its outputs, so every output seen here has its manifest seen below.
        let mut pending: Vec<Arc<Segment>> = {
            let inner = self.inner.lock();
            inner
                .segments
                .iter()
                .filter(|l| l.seg.remote.as_ref().is_some_and(|r| !r.is_uploaded()))
                .map(|l| l.seg.clone())
                .collect()
        };
        // Freshly cut segments first: until they are in the bucket, this writer answers other
        // nodes' queries for them itself. A compaction's output (up to
        // `compaction_segment_bytes`) replaces inputs that are already there, so it can wait.
        pending.sort_by_key(|s| s.remote.as_ref().is_some_and(|r| r.replaces.get().is_some()));
        let manifests: Vec<std::path::PathBuf> = self.manifests.lock().iter().map(|(m, _)| m.clone()).collect();
        for m in manifests {
            if tier.manifests_up.lock().contains(&m) {
                continue;
            }
            let Ok(data) = fs::read(&m) else { continue }; // finished and forgotten meanwhile
            let res = tier.objects.put(&tier::key_of(&m), data);
            tier.metrics.request("manifest", res.is_ok());
            res.map_err(|e| fail("putting a compaction manifest", e))?;
            tier.manifests_up.lock().insert(m);
        }
        tier.metrics.pending_uploads.set(pending.len() as i64);
        for (i, seg) in pending.iter().enumerate() {
            let r = seg.remote.as_ref().expect("filtered on remote");
            if seg.is_obsolete() {
                continue; // retired before it was uploaded: nothing to keep
            }
            let res = tier.objects.put_file(&r.key, &seg.path);
            tier.metrics.request("upload", res.is_ok());
            match res {
                Ok(()) => {}
                // Compacted or expired while uploading: its file went away with it.
                Err(_) if seg.is_obsolete() => continue,
                Err(e) => {
                    done.pending = pending.len() - i;
                    tier.metrics.pending_uploads.set(done.pending as i64);
                    return Err(fail(&format!("uploading {}", r.key), e));
                }
            }
            let (size, tail) = marker::read_tail(&seg.path).map_err(|e| fail("reading an uploaded segment", e))?;
            marker::write(&tier::sibling(&seg.path, "remote"), size, &tail)
                .map_err(|e| self.io_error("bucket marker", e))?;
            // Retired meanwhile: its Drop (when this pass lets go) sees the marker and queues
            // the object's deletion.
            r.uploaded_at.store(crate::tier::live::now_ms(), Ordering::Release);
            r.uploaded.store(true, Ordering::Release);
            done.uploaded += 1;
            done.uploaded_bytes += size;
            tier.metrics.uploaded_bytes.inc_by(size);
        }
        tier.metrics.pending_uploads.set(0);

        // Deletes, now that everything that replaces them is in the bucket, once retired for
        // `delete_delay` (the tombstone's age): other nodes may read them from a recent listing.
        let delay = self.cfg.load().object_store.delete_delay.0;
        let due = |tombstone: &std::path::Path| {
            fs::metadata(tombstone)
                .and_then(|m| m.modified())
                .map_or(true, |t| t.elapsed().unwrap_or_default() >= delay)
        };
        let gone: Vec<(String, std::path::PathBuf)> =
            tier.gone.lock().iter().filter(|(_, t)| due(t)).cloned().collect();
        for (key, tombstone) in gone {
            let res = tier.objects.delete(&key);
            tier.metrics.request("delete", res.is_ok());
            res.map_err(|e| fail(&format!("deleting {key}"), e))?;
            let _ = fs::remove_file(&tombstone);
            tier.gone.lock().retain(|(k, _)| *k != key);
            done.deleted += 1;
        }
        tier.metrics.pending_deletes.set(tier.gone.lock().len() as i64);
        self.forget_finished_manifests();

        // Eviction: the newest data stays local.
        let budget = self.cfg.load().object_store.cache_bytes;
        let mut local: Vec<Arc<Segment>> = {
            let inner = self.inner.lock();
            inner.segments.iter().filter(|l| l.seg.is_local()).map(|l| l.seg.clone()).collect()
        };
        local.sort_by_key(|s| std::cmp::Reverse((s.max_ts, s.id)));
        let mut kept = 0u64;
        for seg in local {
            let r = seg.remote.as_ref().expect("every segment is in the tier");
            if kept + seg.file_bytes <= budget || !r.is_uploaded() {
                kept += seg.file_bytes;
                continue;
            }
            r.local.store(false, Ordering::Release);
            self.files.forget(seg.id);
            match fs::remove_file(&seg.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(path = %seg.path.display(), error = %e, "could not evict a segment file"),
            }
            tier.metrics.evictions.inc();
            done.evicted += 1;
        }
        tier.metrics.local_bytes.set(kept as i64);
        tier.metrics.block_cache_bytes.set(tier.cache.bytes() as i64);
        self.announce(&tier)?;
        self.refresh_peers(&tier)?;
        self.read_announcements(&tier)?;
        if done.uploaded + done.deleted + done.evicted > 0 {
            tracing::debug!(
                uploaded = done.uploaded,
                bytes = done.uploaded_bytes,
                deleted = done.deleted,
                evicted = done.evicted,
                "bucket in step"
            );
        }
        Ok(done)
    }
}
