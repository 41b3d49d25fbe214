//! Counting a stream whose entries more than one writer holds (the agent's replicated pushes,
//! see `tier/peers.rs`), each entry once, without making an entry of any line.
//!
//! Every entry gets an identity: its time and a hash of its line and metadata, taken from the
//! decompressed block text in place. Sources are opened in the order of their oldest time; an
//! entry older than every source not yet opened can meet no other copy of itself, so those are
//! sorted by identity, counted once each and handed out. Memory stays within the blocks that
//! overlap in time (a block or two per writer), however long the stream.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use memchr::memmem;
use model::LineStat;

use crate::digest::{line_hash as identity, metadata_hash};
use crate::select::{ReadStats, Source, all_found, longest};

/// One counted entry and its identity.
struct Keyed {
    hash: u64,
    stat: LineStat,
}

/// The `LineStat`s of one stream's entries in `[start, end)`, exact duplicates counted once, in
/// no particular order.
pub(crate) struct DedupStats {
    /// Not yet opened, the one with the oldest entries last.
    pending: Vec<(i64, Source)>,
    /// Opened sources' entries not yet handed out, each sorted newest first.
    open: Vec<Vec<Keyed>>,
    ready: std::vec::IntoIter<Keyed>,
    start: i64,
    end: i64,
    needles: Arc<Vec<memmem::Finder<'static>>>,
    filter: Option<model::LinePredicate>,
    /// Only entries at times it keeps are counted (the dirty windows of `replicas.rs`).
    keep: Keep,
    stats: Arc<ReadStats>,
}

/// Which times a reader counts.
pub(crate) type Keep = Arc<dyn Fn(i64) -> bool + Send + Sync>;

impl DedupStats {
    pub(crate) fn new(
        sources: Vec<Source>,
        start: i64,
        end: i64,
        needles: Arc<Vec<memmem::Finder<'static>>>,
        filter: Option<model::LinePredicate>,
        keep: Keep,
        stats: Arc<ReadStats>,
    ) -> Self {
        let mut pending: Vec<(i64, Source)> = sources.into_iter().map(|s| (oldest(&s), s)).collect();
        pending.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
        DedupStats {
            pending,
            open: Vec::new(),
            ready: Vec::new().into_iter(),
            start,
            end,
            needles,
            filter,
            keep,
            stats,
        }
    }

    /// Whether an entry at `ts` with line `line` is counted (the needle at `found` known there).
    fn wanted(&self, ts: i64, line: &[u8], found: Option<usize>) -> bool {
        ts >= self.start
            && ts < self.end
            && (self.keep)(ts)
            && all_found(&self.needles, found, line)
            && self.filter.as_ref().is_none_or(|p| std::str::from_utf8(line).is_ok_and(|l| p.keep(l)))
    }

    /// Reads a source's wanted entries with their identities.
    fn read(&self, src: Source) -> Vec<Keyed> {
        match src {
            Source::Memory(v) => {
                self.stats.head_lines.fetch_add(v.len() as u64, Ordering::Relaxed);
                v.into_iter()
                    .filter(|e| self.wanted(e.ts, e.line.as_bytes(), None))
                    .map(|e| {
                        let hash = identity(e.line.as_bytes(), metadata_hash(&e.metadata));
                        Keyed { hash, stat: LineStat::one(e.ts, e.line.len() as u64, e.metadata) }
                    })
                    .collect()
            }
            Source::Identities(v) => {
                self.stats.head_lines.fetch_add(v.len() as u64, Ordering::Relaxed);
                // Their writer kept only lines holding the substrings; no line filter asks
                // for identities.
                v.into_iter()
                    .filter(|e| e.ts >= self.start && e.ts < self.end && (self.keep)(e.ts))
                    .map(|e| Keyed { hash: e.hash, stat: LineStat::one(e.ts, e.bytes, e.metadata) })
                    .collect()
            }
            Source::Block { seg, stream, block } => {
                let m = &seg.streams[stream].blocks[block];
                let first = longest(&self.needles);
                // Entries mostly share a metadata set: its hash is taken once per run.
                let mut last: Option<(crate::block::Shared, u64)> = None;
                let read = seg.read_block_map_where(
                    m,
                    crate::select::search(&self.needles, first, self.filter.as_ref()),
                    |ts, line| self.wanted(ts, line, first),
                    |ts, line, metadata, _| {
                        let mh = match &last {
                            Some((set, h)) if set.ptr_eq(&metadata) => *h,
                            _ => {
                                let h = metadata_hash(&metadata);
                                last = Some((metadata.clone(), h));
                                h
                            }
                        };
                        Ok(Keyed { hash: identity(line, mh), stat: LineStat::one(ts, line.len() as u64, metadata) })
                    },
                );
                match read {
                    Ok(v) => {
                        self.stats.blocks_read.fetch_add(1, Ordering::Relaxed);
                        self.stats.decompressed_bytes.fetch_add(m.raw_bytes, Ordering::Relaxed);
                        self.stats.decompressed_lines.fetch_add(m.count as u64, Ordering::Relaxed);
                        v
                    }
                    Err(e) => {
                        self.stats.failed(&seg, m.offset, &e);
                        Vec::new()
                    }
                }
            }
        }
    }
}

impl Iterator for DedupStats {
    type Item = LineStat;

    fn next(&mut self) -> Option<LineStat> {
        self.next_keyed().map(|(_, s)| s)
    }
}

impl DedupStats {
    /// The next entry counted, with its identity's hash (what a writer answers a count with,
    /// `tier/identities.rs`).
    pub(crate) fn next_keyed(&mut self) -> Option<(u64, LineStat)> {
        loop {
            if let Some(k) = self.ready.next() {
                return Some((k.hash, k.stat));
            }
            // Entries older than every unopened source have met all their copies.
            let frontier = self.pending.last().map_or(i64::MAX, |(t, _)| *t);
            let mut done = Vec::new();
            for v in &mut self.open {
                while v.last().is_some_and(|k| k.stat.ts < frontier) {
                    done.extend(v.pop());
                }
            }
            self.open.retain(|v| !v.is_empty());
            if done.is_empty() {
                let (_, src) = self.pending.pop()?;
                let mut v = self.read(src);
                v.sort_unstable_by_key(|k| std::cmp::Reverse(k.stat.ts));
                self.open.push(v);
                continue;
            }
            done.sort_unstable_by_key(|k| (k.stat.ts, k.hash));
            done.dedup_by_key(|k| (k.stat.ts, k.hash));
            self.ready = done.into_iter();
        }
    }
}

/// The oldest time a source may hold.
fn oldest(s: &Source) -> i64 {
    match s {
        Source::Block { seg, stream, block } => seg.streams[*stream].blocks[*block].min_ts,
        Source::Memory(v) => v.iter().map(|e| e.ts).min().unwrap_or(i64::MAX),
        Source::Identities(v) => v.iter().map(|e| e.ts).min().unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Entry;

    fn e(ts: i64, line: &str) -> Entry {
        Entry { ts, line: line.to_string(), metadata: Default::default() }
    }

    fn count(sources: Vec<Source>, start: i64, end: i64, needles: &[&'static str]) -> Vec<(i64, u64)> {
        let needles = Arc::new(needles.iter().map(|n| memmem::Finder::new(n.as_bytes())).collect());
        let mut v: Vec<(i64, u64)> =
            DedupStats::new(sources, start, end, needles, None, Arc::new(|_| true), Arc::default())
                .map(|s| (s.ts, s.bytes))
                .collect();
        v.sort_unstable();
        v
    }

    /// Copies of an entry count once; distinct lines at one time, or one line with different
    /// metadata, count apart; what only one source holds counts too.
    #[test]
    fn copies_count_once_and_distinct_entries_apart() {
        let mut tagged = e(5, "d");
        tagged.metadata = vec![("trace_id".into(), "1".into())].into();
        let sources = vec![
            Source::Memory(vec![e(1, "a"), e(2, "bb"), e(2, "cc"), e(5, "d"), e(9, "zzz")]),
            Source::Memory(vec![e(2, "bb"), e(3, "x"), e(5, "d"), tagged.clone()]),
            Source::Memory(vec![tagged, e(5, "e"), e(6, "f")]),
            Source::Memory(vec![e(11, "h"), e(10, "g")]),
        ];
        let got = count(sources, 0, 100, &[]);
        let want = vec![(1, 1), (2, 2), (2, 2), (3, 1), (5, 1), (5, 1), (5, 1), (6, 1), (9, 3), (10, 1), (11, 1)];
        assert_eq!(got, want);
    }

    /// The window and the needles apply before counting.
    #[test]
    fn window_and_needles_apply() {
        let sources = || {
            vec![
                Source::Memory(vec![e(1, "GET /a"), e(2, "GET /b"), e(3, "POST /c")]),
                Source::Memory(vec![e(2, "GET /b"), e(3, "POST /c"), e(4, "GET /d")]),
            ]
        };
        assert_eq!(count(sources(), 2, 4, &[]), vec![(2, 6), (3, 7)]);
        assert_eq!(count(sources(), 0, 100, &["GET"]), vec![(1, 6), (2, 6), (4, 6)]);
    }
}
