//! Physical removal of deleted lines: a hook, set from above, that says which entries of a
//! stream must go. Compaction consults it while rewriting segments (so every merge drops them),
//! and [`Store::purge`] rewrites at once the segments that hold entries of pending removals,
//! even segments compaction would otherwise leave alone.
//!
//! The store knows nothing of the requests behind the hook (their queries are LogQL): it only
//! asks, per stream, for time spans still to purge and for a predicate over entries.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use model::{Entry, Labels};

use crate::compact::MAX_INPUTS;
use crate::segment::Segment;
use crate::{Store, StoreError};

/// A predicate over one stream's entries: true for an entry to remove.
pub type Remover = Box<dyn FnMut(&Entry) -> bool + Send>;

/// What decides which stored entries are removed.
pub trait Purge: Send + Sync {
    /// Inclusive `[start, end]` spans (Unix ns) of removals not yet carried out that apply to
    /// this stream; empty when none does.
    fn pending(&self, tenant: &str, labels: &Labels) -> Vec<(i64, i64)>;
    /// The predicate of the entries of this stream to remove, `None` when no removal applies.
    fn remover(&self, tenant: &str, labels: &Labels) -> Option<Remover>;
}

impl Store {
    /// Installs the purge hook (one per store; a later call replaces it).
    pub fn set_purge(&self, hook: Arc<dyn Purge>) {
        *self.purge.write() = Some(hook);
    }

    /// The predicate compaction applies to one stream, if any removal applies to it.
    pub(crate) fn purge_remover(&self, tenant: &str, labels: &Labels) -> Option<Remover> {
        let hook = self.purge.read().clone()?;
        hook.remover(tenant, labels)
    }

    /// Carries out the pending removals now: cuts the heads to a segment (so no entry waits in
    /// memory or the WAL), then rewrites every segment holding a stream with a pending span
    /// overlapping its blocks, dropping the entries the hook removes. Everything else in those
    /// segments is written back unchanged. Returns how many segments were rewritten.
    pub fn purge(&self) -> Result<usize, StoreError> {
        let Some(hook) = self.purge.read().clone() else { return Ok(0) };
        self.flush()?;
        let _one = self.compact_lock.lock();
        self.forget_finished_manifests();
        let quarantined = self.quarantined.lock().clone();
        let segs: Vec<Arc<Segment>> = self.inner.lock().segments.iter().map(|l| l.seg.clone()).collect();
        let mut by_day: BTreeMap<PathBuf, Vec<Arc<Segment>>> = BTreeMap::new();
        for seg in segs {
            if quarantined.contains(&seg.id) {
                continue;
            }
            let touched = seg.streams.iter().any(|st| {
                let spans = hook.pending(&st.tenant, &st.labels);
                !spans.is_empty()
                    && st.blocks.iter().any(|b| spans.iter().any(|&(s, e)| b.max_ts >= s && b.min_ts <= e))
            });
            if touched && let Some(day) = seg.path.parent() {
                by_day.entry(day.to_path_buf()).or_default().push(seg);
            }
        }
        let mut rewritten = 0;
        for (day, segs) in by_day {
            for chunk in segs.chunks(MAX_INPUTS) {
                if let Err(e) = self.compact_one(&day, chunk) {
                    self.metrics.compaction_failures.inc();
                    return Err(e);
                }
                rewritten += chunk.len();
            }
        }
        if rewritten > 0 {
            tracing::info!(segments = rewritten, "rewrote segments to remove deleted lines");
        }
        Ok(rewritten)
    }
}
