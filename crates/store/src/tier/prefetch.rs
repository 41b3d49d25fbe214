//! Reading a query's blocks from the bucket before the query reaches them: a counting query that
//! reads the lines of blocks only in the bucket (other writers' segments, evicted ones) would
//! otherwise wait for one ranged read per block, one after the other (500 blocks, ten seconds).
//! Here the blocks it will read are fetched first, segment by segment (near ranges coalesced
//! and read concurrently by the bucket's client) and several segments at a time, into the block
//! cache, which the reader then finds them in. Bounded by half the cache, so what is fetched is
//! not pushed out before it is read; beyond, blocks are read as the query reaches them.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::Store;
use crate::segment::Segment;
use crate::select::Source;

/// A block of a segment: its stream's index and its own.
type BlockAt = (usize, usize);

/// Segments fetched at once.
const PARALLEL: usize = 4;

impl Store {
    /// Fetches the blocks among `sources` that are only in the bucket and not cached (see the
    /// module doc). Failures are left to the reader, which reports them.
    pub(crate) fn prefetch<'a>(&self, sources: impl IntoIterator<Item = &'a Source>) {
        // Each segment's blocks, as (stream, block) indexes.
        let mut by_segment: HashMap<*const Segment, (Arc<Segment>, Vec<BlockAt>)> = HashMap::new();
        for s in sources {
            let Source::Block { seg, stream, block } = s else { continue };
            if seg.is_local() || seg.remote.is_none() {
                continue;
            }
            by_segment.entry(Arc::as_ptr(seg)).or_insert_with(|| (seg.clone(), Vec::new())).1.push((*stream, *block));
        }
        let mut work: Vec<(Arc<Segment>, Vec<Range<u64>>)> = Vec::new();
        let mut budget: HashMap<*const crate::tier::Tier, u64> = HashMap::new();
        for (_, (seg, blocks)) in by_segment {
            let r = seg.remote.as_ref().expect("filtered on remote");
            let left = budget.entry(Arc::as_ptr(&r.tier)).or_insert(r.tier.cache.capacity() / 2);
            let mut ranges: Vec<Range<u64>> = Vec::new();
            for (stream, block) in blocks {
                let m = &seg.streams[stream].blocks[block];
                if r.tier.cache.contains(seg.id, m.offset) || u64::from(m.len) > *left {
                    continue;
                }
                *left -= u64::from(m.len);
                ranges.push(m.offset..m.offset + u64::from(m.len));
            }
            ranges.sort_unstable_by_key(|r| r.start);
            ranges.dedup();
            // A single block is read as the query reaches it, as without prefetching.
            if ranges.len() > 1 {
                work.push((seg, ranges));
            }
        }
        if work.is_empty() {
            return;
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..PARALLEL.min(work.len()) {
                s.spawn(|| {
                    while let Some((seg, ranges)) = work.get(next.fetch_add(1, Ordering::Relaxed)) {
                        fetch_segment(seg, ranges);
                    }
                });
            }
        });
    }
}

/// Fetches `ranges` (whole blocks) of one segment into its tier's block cache.
fn fetch_segment(seg: &Segment, ranges: &[Range<u64>]) {
    let r = seg.remote.as_ref().expect("filtered on remote");
    let Ok(got) = r.tier.fetch_many(&r.key, ranges) else { return };
    for (range, data) in ranges.iter().zip(got) {
        if data.len() as u64 != range.end - range.start {
            continue; // the reader reads it again, and says what is wrong
        }
        r.tier.metrics.fetched_bytes.inc_by(data.len() as u64);
        r.tier.cache.insert(seg.id, range.start, Arc::new(data));
    }
}
