//! Reconciling the bucket's listing with the local segments, once per start (the first sync
//! pass that reaches the bucket).
//!
//! Objects the local disk knows nothing of are the writer's own earlier segments whose files
//! were lost (a disk replaced, a data directory deleted): they are adopted, served from their
//! footer (fetched with two ranged reads, then kept in a `.remote` marker) and read block by
//! block. Compaction manifests in the bucket that the local disk does not hold say which
//! objects a compaction replaced: when all its outputs are in the bucket its inputs are deleted,
//! otherwise its partial outputs are, so data is never served twice.

use std::collections::HashSet;
use std::fs;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::segment::{self, SegmentError};
use crate::tier::{Tier, marker};
use crate::{Store, StoreError, register_segment};

impl Store {
    pub(crate) fn adopt(&self, tier: &Arc<Tier>) -> Result<(), StoreError> {
        let fail = |what: &str, e: std::io::Error| StoreError::Bucket(format!("{what} ({}): {e}", tier.describe()));
        let listed = tier.objects.list();
        tier.metrics.request("list", listed.is_ok());
        let listed = listed.map_err(|e| fail("listing the bucket", e))?;
        let root = self.dir.join("segments");
        let known: HashSet<String> = {
            let inner = self.inner.lock();
            let mut k: HashSet<String> = inner
                .segments
                .iter()
                .filter(|l| !l.seg.is_foreign())
                .filter_map(|l| l.seg.remote.as_ref().map(|r| r.key.clone()))
                .collect();
            k.extend(tier.gone.lock().iter().map(|(key, _)| key.clone()));
            k
        };
        let mut skip: HashSet<String> = HashSet::new();
        let mut delete: Vec<String> = Vec::new();
        for (manifest, replaced) in replaced_objects(tier, &listed)? {
            if root.join(&manifest).exists() {
                continue; // this disk holds it: compaction's own bookkeeping finishes it
            }
            for k in replaced.into_iter().filter(|k| !known.contains(k)) {
                skip.insert(k.clone());
                delete.push(k);
            }
            delete.push(manifest);
        }
        let mut adopted = 0usize;
        for (key, size) in &listed {
            if !key.ends_with(".seg") || known.contains(key) || skip.contains(key) {
                continue;
            }
            let path = root.join(key);
            let Some((mut seg, tail)) = self.fetch_footer(tier, key, *size, &path)? else { continue };
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|e| self.io_error("bucket marker", e))?;
            }
            marker::write(&crate::tier::sibling(&path, "remote"), *size, &tail)
                .map_err(|e| self.io_error("bucket marker", e))?;
            seg.attach(tier, false, true);
            let mut inner = self.inner.lock();
            inner.next_segment_id = inner.next_segment_id.max(seg.id + 1);
            register_segment(&mut inner, seg);
            adopted += 1;
        }
        for key in delete {
            let res = tier.objects.delete(&key);
            tier.metrics.request("delete", res.is_ok());
            res.map_err(|e| fail(&format!("deleting {key}"), e))?;
        }
        if adopted > 0 {
            tracing::info!(segments = adopted, bucket = %tier.describe(), "adopted segments found only in the bucket");
            self.update_gauges();
        }
        tier.adopted.store(true, Ordering::Release);
        Ok(())
    }
}

impl Store {
    /// A segment object's footer, read with two ranged requests (its trailer, then the footer
    /// it points to), and the segment it describes, to be served from the bucket. `None` (logged)
    /// when the object is not a readable segment.
    pub(crate) fn fetch_footer(
        &self,
        tier: &Arc<Tier>,
        key: &str,
        size: u64,
        path: &std::path::Path,
    ) -> Result<Option<(segment::Segment, Vec<u8>)>, StoreError> {
        let fail = |e: std::io::Error| StoreError::Bucket(format!("reading {}/{key}: {e}", tier.describe()));
        let Some(id) = key.rsplit('/').next().and_then(|n| n.strip_suffix(".seg")).and_then(|n| n.parse::<u64>().ok())
        else {
            return Ok(None);
        };
        let trailer = tier.objects.get_range(key, size.saturating_sub(16)..size);
        tier.metrics.request("footer", trailer.is_ok());
        let trailer = trailer.map_err(fail)?;
        let Ok(trailer) = <[u8; 16]>::try_from(trailer.as_slice()) else {
            tracing::error!(key, "object too short to be a segment; left alone");
            return Ok(None);
        };
        let tail_len = match marker::tail_len(&trailer, size) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(key, error = %e, "object is not a readable segment; left alone");
                return Ok(None);
            }
        };
        let tail = tier.objects.get_range(key, size - tail_len..size);
        tier.metrics.request("footer", tail.is_ok());
        let tail = tail.map_err(fail)?;
        match segment::from_tail(path, id, size, &tail, self.files.clone(), false) {
            Ok(s) => Ok(Some((s, tail))),
            Err(e @ SegmentError::Newer(_)) => Err(StoreError::Bucket(format!("{key}: {e}"))),
            Err(e) => {
                tracing::error!(key, error = %e, "damaged segment in the bucket skipped");
                Ok(None)
            }
        }
    }
}

/// For each compaction manifest listed, the listed segment objects it says are replaced: its
/// inputs when all its outputs are in the bucket, else its (partial) outputs. Either way they
/// must not be served beside the others.
pub(crate) fn replaced_objects(
    tier: &Tier,
    listed: &[(String, u64)],
) -> Result<Vec<(String, Vec<String>)>, StoreError> {
    let sizes: HashSet<&str> = listed.iter().map(|(k, _)| k.as_str()).collect();
    let mut out = Vec::new();
    for (key, _) in listed.iter().filter(|(k, _)| k.ends_with(crate::compact::MANIFEST_SUFFIX)) {
        let text = tier.objects.get(key);
        tier.metrics.request("manifest", text.is_ok());
        let text = match text {
            Ok(t) => t,
            // Finished and deleted since the listing: nothing replaced is listed any more.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::Bucket(format!("reading {}/{key}: {e}", tier.describe()))),
        };
        let Some((inputs, outputs)) = crate::compact::manifest_keys(&String::from_utf8_lossy(&text)) else {
            tracing::error!(key, "damaged compaction manifest in the bucket ignored");
            continue;
        };
        let replaced = if outputs.iter().all(|o| sizes.contains(o.as_str())) { inputs } else { outputs };
        out.push((key.clone(), replaced.into_iter().filter(|k| sizes.contains(k.as_str())).collect()));
    }
    Ok(out)
}
