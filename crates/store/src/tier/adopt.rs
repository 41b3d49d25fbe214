//! Reconciling the bucket's listing with the local segments, once per start (the first sync
//! pass that reaches the bucket).
//!
//! Objects the local disk knows nothing of are the writer's own earlier segments whose files
//! were lost (a disk replaced, a data directory deleted): they are adopted, served from their
//! footer (fetched with two ranged reads, then kept in a `.remote` marker) and read block by
//! block. Compaction manifests in the bucket that the local disk does not hold say which
//! objects a compaction replaced: when all its outputs are in the bucket its inputs are deleted,
//! otherwise its partial outputs are, so data is never served twice.

use std::collections::{HashMap, HashSet};
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
            let mut k: HashSet<String> =
                inner.segments.iter().filter_map(|l| l.seg.remote.as_ref().map(|r| r.key.clone())).collect();
            k.extend(tier.gone.lock().iter().map(|(key, _)| key.clone()));
            k
        };
        let sizes: HashMap<&str, u64> = listed.iter().map(|(k, s)| (k.as_str(), *s)).collect();
        let mut skip: HashSet<String> = HashSet::new();
        let mut delete: Vec<String> = Vec::new();
        for (key, _) in listed.iter().filter(|(k, _)| k.ends_with(crate::compact::MANIFEST_SUFFIX)) {
            if root.join(key).exists() {
                continue; // this disk holds it: compaction's own bookkeeping finishes it
            }
            let text = tier.objects.get(key);
            tier.metrics.request("manifest", text.is_ok());
            let text = text.map_err(|e| fail(&format!("reading {key}"), e))?;
            let Some((inputs, outputs)) = crate::compact::manifest_keys(&String::from_utf8_lossy(&text)) else {
                tracing::error!(key, "damaged compaction manifest in the bucket ignored");
                continue;
            };
            let replaced = if outputs.iter().all(|o| sizes.contains_key(o.as_str())) { inputs } else { outputs };
            for k in replaced {
                if !known.contains(&k) && sizes.contains_key(k.as_str()) {
                    skip.insert(k.clone());
                    delete.push(k);
                }
            }
            delete.push(key.clone());
        }
        let mut adopted = 0usize;
        for (key, size) in &listed {
            if !key.ends_with(".seg") || known.contains(key) || skip.contains(key) {
                continue;
            }
            let Some(id) =
                key.rsplit('/').next().and_then(|n| n.strip_suffix(".seg")).and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let path = root.join(key);
            let trailer = tier.objects.get_range(key, size.saturating_sub(16)..*size);
            tier.metrics.request("footer", trailer.is_ok());
            let trailer = trailer.map_err(|e| fail(&format!("reading {key}"), e))?;
            let Ok(trailer) = <[u8; 16]>::try_from(trailer.as_slice()) else {
                tracing::error!(key, "object too short to be a segment; left alone");
                continue;
            };
            let tail_len = match marker::tail_len(&trailer, *size) {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(key, error = %e, "object is not a readable segment; left alone");
                    continue;
                }
            };
            let tail = tier.objects.get_range(key, size - tail_len..*size);
            tier.metrics.request("footer", tail.is_ok());
            let tail = tail.map_err(|e| fail(&format!("reading {key}"), e))?;
            let mut seg = match segment::from_tail(&path, id, *size, &tail, self.files.clone()) {
                Ok(s) => s,
                Err(e @ SegmentError::Newer(_)) => {
                    return Err(StoreError::Bucket(format!("{key}: {e}")));
                }
                Err(e) => {
                    tracing::error!(key, error = %e, "damaged segment in the bucket skipped");
                    continue;
                }
            };
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|e| self.io_error("bucket marker", e))?;
            }
            marker::write(&crate::tier::sibling(&path, "remote"), *size, &tail)
                .map_err(|e| self.io_error("bucket marker", e))?;
            seg.attach(tier, false, true);
            let mut inner = self.inner.lock();
            inner.next_segment_id = inner.next_segment_id.max(id + 1);
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
