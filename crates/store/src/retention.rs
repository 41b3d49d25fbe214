//! Retention: segments older than `retention_period` go, then the oldest while the store
//! exceeds `retention_max_bytes` (the WAL counted, with room to grow). Other writers' segments
//! are theirs to expire.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::segment::Segment;
use crate::{Store, dir_bytes, metrics};

impl Store {
    /// Drops segments older than the retention period, then the oldest ones while the total
    /// exceeds the size limit. Returns the number of segments removed.
    pub fn apply_retention(&self, now_ns: i64) -> usize {
        let removed: Vec<Arc<Segment>> = {
            let mut inner = self.inner.lock();
            let period = self.cfg.load().retention_period.0;
            let cutoff = if period.is_zero() { i64::MIN } else { now_ns.saturating_sub(period.as_nanos() as i64) };
            // Other writers' segments are theirs to expire (their deletes reach us by listing).
            let mut order: Vec<usize> =
                (0..inner.segments.len()).filter(|&i| !inner.segments[i].seg.is_foreign()).collect();
            order.sort_by_key(|&i| (inner.segments[i].seg.max_ts, inner.segments[i].seg.id));
            // Size retention keeps room for the WAL: what it holds now, and what it may grow to
            // before the next cut (twice flush_bytes, when pushes start to wait).
            let wal_bytes = dir_bytes(&self.dir.join("wal"));
            let mut total: u64 =
                inner.segments.iter().filter(|s| !s.seg.is_foreign()).map(|s| s.seg.file_bytes).sum::<u64>()
                    + wal_bytes.max(self.cfg.load().flush_bytes.saturating_mul(2));
            let mut drop = BTreeSet::new();
            for &i in &order {
                let s = &inner.segments[i].seg;
                let too_old = s.max_ts < cutoff;
                let too_big = self.cfg.load().retention_max_bytes > 0 && total > self.cfg.load().retention_max_bytes;
                if too_old || too_big {
                    drop.insert(i);
                    total -= s.file_bytes;
                    if too_old {
                        self.metrics.retention_segments.get_or_create(&metrics::Reason::new("age")).inc();
                    } else {
                        self.metrics.retention_segments.get_or_create(&metrics::Reason::new("size")).inc();
                    }
                } else if !too_big {
                    break;
                }
            }
            let mut out = Vec::new();
            let mut i = 0;
            inner.segments.retain(|s| {
                let d = drop.contains(&i);
                i += 1;
                if d {
                    out.push(s.seg.clone());
                }
                !d
            });
            out
        };
        for s in &removed {
            let entries: u64 = s.streams.iter().flat_map(|st| &st.blocks).map(|b| b.count as u64).sum();
            self.metrics.retention_entries.inc_by(entries);
            self.metrics.retention_bytes.inc_by(s.file_bytes);
            // Deleted once the last query reading it is done.
            s.retire();
            tracing::info!(path = %s.path.display(), max_ts = s.max_ts, "retention removed a segment");
        }
        if !removed.is_empty() {
            self.update_gauges();
        }
        removed.len()
    }
}
