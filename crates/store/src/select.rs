//! Reading a stream back: a lazy k-way merge over its blocks (decompressed only when the merge
//! reaches them) and its in-memory entries, in either direction, with exact duplicates removed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use memchr::memmem;
use model::{Direction, Entry};

use crate::segment::Segment;

/// Counters a query's reads add to.
#[derive(Debug, Default)]
pub struct ReadStats {
    pub blocks_read: AtomicU64,
    pub blocks_skipped: AtomicU64,
    pub decompressed_bytes: AtomicU64,
    pub decompressed_lines: AtomicU64,
    pub compressed_bytes: AtomicU64,
    pub head_lines: AtomicU64,
    pub head_bytes: AtomicU64,
    pub corrupt_blocks: AtomicU64,
    /// Where the first damaged block was and why it could not be read, for the query's error.
    pub first_corrupt: std::sync::OnceLock<String>,
    /// Blocks read for their columns only (counting queries), lines left compressed.
    pub stats_blocks_read: AtomicU64,
    /// Blocks counted from their metadata alone (counting queries over whole blocks).
    pub summarized_blocks: AtomicU64,
    /// Blocks counted from their footer's tally, window by window (`tally.rs`).
    pub tallied_blocks: AtomicU64,
    /// Blocks only in the bucket that could not be fetched (the bucket unreachable): the answer
    /// lacks them, and says so in its warnings.
    pub unavailable_blocks: AtomicU64,
    pub first_unavailable: std::sync::OnceLock<String>,
    /// Writers asked for their data not yet uploaded that did not answer (`tier/live.rs`):
    /// the answer lacks it, and says so in its warnings.
    pub unanswered_writers: AtomicU64,
    pub first_unanswered: std::sync::OnceLock<String>,
}

impl ReadStats {
    /// Counts a block that could not be read: damaged, or out of reach in the bucket.
    pub(crate) fn failed(&self, seg: &crate::segment::Segment, offset: u64, e: &crate::block::BlockError) {
        let at = format!("segment {}, block at byte {offset}: {e}", seg.path.display());
        if matches!(e, crate::block::BlockError::Unavailable(_)) {
            self.unavailable_blocks.fetch_add(1, Ordering::Relaxed);
            // Once per query (the answer's warnings say how many); the uploader logs the outage.
            if self.first_unavailable.set(at).is_ok() {
                tracing::warn!(segment = %seg.path.display(), offset, error = %e, "a query could not read blocks from object storage");
            }
        } else {
            self.corrupt_blocks.fetch_add(1, Ordering::Relaxed);
            let _ = self.first_corrupt.set(at);
            tracing::error!(segment = %seg.path.display(), offset, error = %e, "damaged block skipped");
        }
    }
}

/// Where some of a stream's entries are.
#[derive(Clone)]
pub enum Source {
    Block {
        seg: Arc<Segment>,
        stream: usize,
        block: usize,
    },
    Memory(Vec<Entry>),
    /// Another writer's fresh entries without their lines, as a count asks for them (already
    /// holding the query's substrings; only counting readers get them).
    Identities(Vec<crate::tier::identities::Identity>),
}

impl Source {
    fn bounds(&self) -> (i64, i64) {
        match self {
            Source::Block { seg, stream, block } => {
                let m = &seg.streams[*stream].blocks[*block];
                (m.min_ts, m.max_ts)
            }
            Source::Memory(v) => (v.first().map_or(0, |e| e.ts), v.last().map_or(0, |e| e.ts)),
            Source::Identities(v) => (v.first().map_or(0, |e| e.ts), v.last().map_or(0, |e| e.ts)),
        }
    }
}

struct Cursor {
    entries: std::vec::IntoIter<Entry>,
    next: Entry,
}

enum Item {
    /// A source not read yet. For a block read before, `skip` of its entries (in the read's
    /// order) were taken then; the `doublings`-th read of a block holds up to twice the
    /// entries the one before did.
    Pending {
        src: Source,
        skip: usize,
        doublings: u32,
    },
    Open(Cursor),
}

/// Bytes an entry held in memory costs besides its line (the entry, the allocator's header).
const ENTRY_OVERHEAD: usize = 64;

struct HeapItem {
    /// Sort key: the timestamp, negated for backward reads, so the heap's minimum is next.
    key: i64,
    /// Pending sources sort before open cursors with the same key, so equal timestamps from
    /// every source are grouped together.
    open: bool,
    seq: u64,
    item: Item,
}

impl PartialEq for HeapItem {
    fn eq(&self, o: &Self) -> bool {
        (self.key, self.open, self.seq) == (o.key, o.open, o.seq)
    }
}
impl Eq for HeapItem {}
impl PartialOrd for HeapItem {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for HeapItem {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.key, self.open, self.seq).cmp(&(o.key, o.open, o.seq))
    }
}

/// An iterator over one stream's entries in `[start, end)`.
pub struct StreamReader {
    heap: BinaryHeap<Reverse<HeapItem>>,
    start: i64,
    end: i64,
    dir: Direction,
    needles: Arc<Vec<memmem::Finder<'static>>>,
    seq: u64,
    last_ts: Option<i64>,
    /// Hashes of the entries returned at `last_ts` (only once a second one may come).
    same_ts: Vec<u64>,
    /// The cursor read last, outside the heap while it stays ahead.
    current: Option<Cursor>,
    stats: Arc<ReadStats>,
    /// Bytes and entries of a block held at once (see [`StreamReader::holding`]).
    budget: (usize, usize),
}

impl StreamReader {
    pub fn new(
        sources: Vec<Source>,
        start: i64,
        end: i64,
        dir: Direction,
        needles: Arc<Vec<memmem::Finder<'static>>>,
        stats: Arc<ReadStats>,
    ) -> Self {
        let mut r = StreamReader {
            heap: BinaryHeap::new(),
            start,
            end,
            dir,
            needles,
            seq: 0,
            last_ts: None,
            same_ts: Vec::new(),
            current: None,
            stats,
            budget: (usize::MAX, usize::MAX),
        };
        for src in sources {
            let (lo, hi) = src.bounds();
            let key = r.key(if dir == Direction::Forward { lo } else { hi });
            r.push(key, false, Item::Pending { src, skip: 0, doublings: 0 });
        }
        r
    }

    /// Holds at most `entries` of a block's entries, and about `bytes` of them (lines and
    /// their overhead), at once; the rest of the block is read again when the merge reaches
    /// it, holding twice as much each time (a reader that goes through a whole block reads it
    /// a few times, not once per part). A log query over many streams opens a block of each
    /// at once: without a bound, its memory would grow with the streams, not with what it
    /// returns. Entries of one time are never split apart, so the order of what comes out
    /// does not change.
    pub fn holding(mut self, bytes: usize, entries: usize) -> Self {
        self.budget = (bytes.max(1), entries.max(1));
        self
    }

    fn key(&self, ts: i64) -> i64 {
        if self.dir == Direction::Forward { ts } else { ts.saturating_neg() }
    }

    fn push(&mut self, key: i64, open: bool, item: Item) {
        self.seq += 1;
        self.heap.push(Reverse(HeapItem { key, open, seq: self.seq, item }));
    }

    fn keep(&self, e: &Entry) -> bool {
        self.keep_raw(e.ts, e.line.as_bytes())
    }

    fn keep_raw(&self, ts: i64, line: &[u8]) -> bool {
        self.keep_raw_but(ts, line, None)
    }

    /// As `keep_raw`, the needle at index `found` (already found in the line) not searched again.
    fn keep_raw_but(&self, ts: i64, line: &[u8], found: Option<usize>) -> bool {
        ts >= self.start && ts < self.end && all_found(&self.needles, found, line)
    }

    fn open(&mut self, src: Source, skip: usize, doublings: u32) {
        // Only blocks are cut in parts (memory sources are held already); a clone is an `Arc`.
        let again = matches!(src, Source::Block { .. }).then(|| src.clone());
        let mut entries = match src {
            Source::Memory(v) => {
                self.stats.head_lines.fetch_add(v.len() as u64, Ordering::Relaxed);
                self.stats.head_bytes.fetch_add(v.iter().map(|e| e.line.len() as u64).sum(), Ordering::Relaxed);
                v
            }
            // Lines are not there: log queries never ask for identities.
            Source::Identities(_) => return,
            Source::Block { seg, stream, block } => {
                let m = &seg.streams[stream].blocks[block];
                let first = longest(&self.needles);
                match seg.read_block_where(m, search(&self.needles, first, None), |ts, line| {
                    self.keep_raw_but(ts, line, first)
                }) {
                    Ok(v) => {
                        self.stats.blocks_read.fetch_add(1, Ordering::Relaxed);
                        self.stats.compressed_bytes.fetch_add(m.len as u64, Ordering::Relaxed);
                        self.stats.decompressed_bytes.fetch_add(m.raw_bytes, Ordering::Relaxed);
                        self.stats.decompressed_lines.fetch_add(m.count as u64, Ordering::Relaxed);
                        v
                    }
                    Err(e) => {
                        self.stats.failed(&seg, m.offset, &e);
                        return;
                    }
                }
            }
        };
        entries.retain(|e| self.keep(e));
        if self.dir == Direction::Backward {
            entries.reverse();
        }
        entries.drain(..skip.min(entries.len()));
        if let Some(src) = again {
            let times = 1usize.checked_shl(doublings).unwrap_or(usize::MAX);
            let (bytes, most) = (self.budget.0.saturating_mul(times), self.budget.1.saturating_mul(times));
            let (mut held, mut k) = (0usize, 0usize);
            while k < entries.len() && held < bytes && k < most {
                held += entries[k].line.len() + ENTRY_OVERHEAD;
                k += 1;
            }
            // The rest starts at a later time than anything held (in the read's direction).
            while k < entries.len() && entries[k].ts == entries[k - 1].ts {
                k += 1;
            }
            if k < entries.len() {
                let key = self.key(entries[k].ts);
                entries.truncate(k);
                entries.shrink_to_fit();
                self.push(key, false, Item::Pending { src, skip: skip + k, doublings: doublings.saturating_add(1) });
            }
        }
        let mut it = entries.into_iter();
        if let Some(next) = it.next() {
            let key = self.key(next.ts);
            self.push(key, true, Item::Open(Cursor { entries: it, next }));
        }
    }
}

impl Iterator for StreamReader {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            // The cursor last read from goes on without the heap while it stays strictly ahead
            // of everything in it (blocks of one stream rarely overlap in time).
            let mut c = match self.current.take() {
                Some(c) => {
                    let key = self.key(c.next.ts);
                    if self.heap.peek().is_some_and(|Reverse(t)| t.key <= key) {
                        self.push(key, true, Item::Open(c));
                        continue;
                    }
                    c
                }
                None => {
                    let Reverse(top) = self.heap.pop()?;
                    match top.item {
                        Item::Pending { src, skip, doublings } => {
                            self.open(src, skip, doublings);
                            continue;
                        }
                        Item::Open(c) => c,
                    }
                }
            };
            let e = match c.entries.next() {
                Some(n) => {
                    let e = std::mem::replace(&mut c.next, n);
                    self.current = Some(c);
                    e
                }
                None => c.next,
            };
            // Exact duplicates share a timestamp: an entry is hashed only when another one at
            // its time may follow (from its own cursor or from the heap's next).
            if self.last_ts != Some(e.ts) {
                self.last_ts = Some(e.ts);
                self.same_ts.clear();
                let key = self.key(e.ts);
                let more = self.current.as_ref().is_some_and(|c| c.next.ts == e.ts)
                    || self.heap.peek().is_some_and(|Reverse(t)| t.key == key);
                if more {
                    self.same_ts.push(entry_hash(&e));
                }
                return Some(e);
            }
            let h = entry_hash(&e);
            if self.same_ts.contains(&h) {
                continue;
            }
            self.same_ts.push(h);
            return Some(e);
        }
    }
}

/// [`crate::digest::entry_hash`] of an entry.
fn entry_hash(e: &Entry) -> u64 {
    crate::digest::entry_hash(&e.line, &e.metadata)
}

/// Blocks whose lines a counting read searches, per part of a stream read apart
/// ([`StatsReader::in_parts`]).
pub const BLOCKS_PER_PART: usize = 4;

/// An iterator over one stream's entries in `[start, end)` as `LineStat`s, in no particular
/// order: blocks contribute their column frames only, never their lines, unless the query
/// requires substrings (`|= "error"`): then lines are searched in the decompressed block and
/// only the entries holding every one are counted, still without allocating a line.
pub struct StatsReader {
    sources: Vec<Source>,
    current: std::vec::IntoIter<model::LineStat>,
    start: i64,
    end: i64,
    needles: Arc<Vec<memmem::Finder<'static>>>,
    stats: Arc<ReadStats>,
    filter: Option<model::LinePredicate>,
    summaries: Option<model::Summaries>,
    /// Whether a whole block may be one summary (entries' metadata cannot matter).
    whole_blocks: bool,
    /// Only entries at times it keeps are counted (a writer's windows, `replicas.rs`).
    keep: Option<crate::dedup::Keep>,
    /// Set when the stream's blocks come from more than one writer (see `tier/peers.rs`): each
    /// window is counted from one writer's copy, or entry by entry (`replicas.rs`).
    merged: Option<Box<dyn Iterator<Item = model::LineStat> + Send>>,
}

impl StatsReader {
    /// Counts only the lines `filter` keeps (tested on the decompressed text; no entry is made).
    pub fn with_line_filter(mut self, filter: Option<model::LinePredicate>) -> Self {
        self.filter = filter;
        self
    }

    /// Answers blocks from their columns as runs, one `LineStat` per segment of `summaries`
    /// they cross (and per metadata set, unless `whole_blocks`). With `whole_blocks` (entries'
    /// metadata cannot matter to the reader), a block lying whole in one segment and in the
    /// window is answered from its footer alone, nothing read, and others from their timestamps
    /// and lengths only. Ignored when lines must be searched.
    pub fn with_summaries(mut self, summaries: Option<model::Summaries>, whole_blocks: bool) -> Self {
        self.summaries = summaries;
        self.whole_blocks = whole_blocks;
        self
    }

    /// The block's summary, when it may stand for its entries.
    fn summary(&self, m: &crate::block::BlockMeta) -> Option<model::LineStat> {
        let s = self.summaries.as_ref().filter(|_| self.whole_blocks && self.keep.is_none())?;
        let whole = !self.reads_lines() && m.min_ts >= self.start && m.max_ts < self.end;
        (whole && s.one_segment(m.min_ts, m.max_ts)).then(|| model::LineStat {
            ts: m.max_ts,
            bytes: m.raw_bytes,
            metadata: Default::default(),
            lines: m.count,
        })
    }

    pub fn new(
        sources: Vec<Source>,
        start: i64,
        end: i64,
        needles: Arc<Vec<memmem::Finder<'static>>>,
        stats: Arc<ReadStats>,
    ) -> Self {
        StatsReader {
            sources,
            current: Vec::new().into_iter(),
            start,
            end,
            needles,
            stats,
            filter: None,
            summaries: None,
            whole_blocks: false,
            keep: None,
            merged: None,
        }
    }

    /// Counts each entry once though several writers hold it, as `plan` says (its sources
    /// replace this reader's; see `replicas.rs` and `dedup.rs`).
    pub(crate) fn replicated(mut self, plan: crate::replicas::Plan) -> Self {
        let mut parts: Vec<Box<dyn Iterator<Item = model::LineStat> + Send>> = Vec::new();
        parts.push(Box::new(self.part(plan.whole, None)));
        for (origin, sources) in plan.partly {
            let d = plan.decisions.clone();
            parts.push(Box::new(self.part(sources, Some(Arc::new(move |ts| d.counts(origin, ts))))));
        }
        if !plan.dirty.is_empty() {
            let d = plan.decisions.clone();
            parts.push(Box::new(crate::dedup::DedupStats::new(
                plan.dirty,
                self.start,
                self.end,
                self.needles.clone(),
                self.filter.clone(),
                Arc::new(move |ts| d.dirty(ts)),
                self.stats.clone(),
            )));
        }
        self.sources = Vec::new();
        self.merged = Some(Box::new(parts.into_iter().flatten()));
        self
    }

    /// This reader over `sources` instead.
    pub(crate) fn with_sources(mut self, sources: Vec<Source>) -> Self {
        self.sources = sources;
        self
    }

    /// This reader over `sources`, as several readers when many blocks' lines are read, so
    /// that one stream holding most of a search's work (a needle's candidates, a scan) keeps
    /// every core busy: counts are in no order and each entry is in one source, so the parts
    /// add up to the whole. Blocks are dealt out in turn ([`BLOCKS_PER_PART`] to a part), the
    /// rest (entries in memory) go with the first part.
    pub(crate) fn in_parts(self, sources: Vec<Source>) -> Vec<StatsReader> {
        let n = sources.iter().filter(|s| matches!(s, Source::Block { .. })).count();
        let k = n.div_ceil(BLOCKS_PER_PART);
        if !self.reads_lines() || k <= 1 {
            return vec![self.with_sources(sources)];
        }
        let mut parts: Vec<Vec<Source>> = (0..k).map(|_| Vec::new()).collect();
        let mut i = 0;
        for s in sources {
            match s {
                Source::Block { .. } => {
                    parts[i % k].push(s);
                    i += 1;
                }
                other => parts[0].push(other),
            }
        }
        parts.into_iter().map(|p| self.part(p, self.keep.clone())).collect()
    }

    /// A reader like this one over `sources`, counting only times `keep` keeps.
    fn part(&self, sources: Vec<Source>, keep: Option<crate::dedup::Keep>) -> StatsReader {
        StatsReader {
            sources,
            current: Vec::new().into_iter(),
            start: self.start,
            end: self.end,
            needles: self.needles.clone(),
            stats: self.stats.clone(),
            filter: self.filter.clone(),
            summaries: self.summaries.clone(),
            whole_blocks: self.whole_blocks,
            keep,
            merged: None,
        }
    }

    fn has_needles(&self, line: &[u8]) -> bool {
        self.has_needles_but(line, None)
    }

    /// As `has_needles`, the needle at index `found` (already found in the line) not searched
    /// again.
    fn has_needles_but(&self, line: &[u8], found: Option<usize>) -> bool {
        all_found(&self.needles, found, line)
            && self.filter.as_ref().is_none_or(|p| std::str::from_utf8(line).is_ok_and(|l| p.keep(l)))
    }

    fn reads_lines(&self) -> bool {
        !self.needles.is_empty() || self.filter.is_some()
    }
}

impl Iterator for StatsReader {
    type Item = model::LineStat;

    fn next(&mut self) -> Option<model::LineStat> {
        if let Some(m) = &mut self.merged {
            return m.next();
        }
        loop {
            let (start, end, keep) = (self.start, self.end, &self.keep);
            if let Some(s) =
                self.current.by_ref().find(|s| s.ts >= start && s.ts < end && keep.as_ref().is_none_or(|k| k(s.ts)))
            {
                return Some(s);
            }
            let src = self.sources.pop()?;
            let v = match src {
                Source::Memory(v) => {
                    self.stats.head_lines.fetch_add(v.len() as u64, Ordering::Relaxed);
                    v.into_iter()
                        .filter(|e| self.has_needles(e.line.as_bytes()))
                        .map(|e| model::LineStat::one(e.ts, e.line.len() as u64, e.metadata))
                        .collect()
                }
                Source::Identities(v) => {
                    self.stats.head_lines.fetch_add(v.len() as u64, Ordering::Relaxed);
                    v.into_iter().map(|e| model::LineStat::one(e.ts, e.bytes, e.metadata)).collect()
                }
                Source::Block { seg, stream, block } => {
                    let m = &seg.streams[stream].blocks[block];
                    if let Some(s) = self.summary(m) {
                        self.stats.summarized_blocks.fetch_add(1, Ordering::Relaxed);
                        return Some(s);
                    }
                    // Runs stand for many entries: a reader keeping some times only counts each.
                    let runs = self.summaries.as_ref().filter(|_| !self.reads_lines() && self.keep.is_none());
                    if let Some(v) = runs.and_then(|s| {
                        crate::tally::runs(m, &*seg.sums(m)?, s, self.start, self.end, !self.whole_blocks)
                    }) {
                        self.stats.tallied_blocks.fetch_add(1, Ordering::Relaxed);
                        self.current = v.into_iter();
                        continue;
                    }
                    let read = if let Some(s) = runs {
                        seg.read_block_runs(m, s, self.start, self.end, !self.whole_blocks)
                    } else if !self.reads_lines() {
                        seg.read_block_stats(m)
                    } else {
                        let first = longest(&self.needles);
                        seg.read_block_stats_where(m, search(&self.needles, first, self.filter.as_ref()), |line| {
                            self.has_needles_but(line, first)
                        })
                    };
                    match read {
                        Ok(v) => {
                            if self.reads_lines() {
                                self.stats.blocks_read.fetch_add(1, Ordering::Relaxed);
                                self.stats.decompressed_bytes.fetch_add(m.raw_bytes, Ordering::Relaxed);
                                self.stats.decompressed_lines.fetch_add(m.count as u64, Ordering::Relaxed);
                            } else {
                                self.stats.stats_blocks_read.fetch_add(1, Ordering::Relaxed);
                            }
                            v
                        }
                        Err(e) => {
                            self.stats.failed(&seg, m.offset, &e);
                            continue;
                        }
                    }
                }
            };
            self.current = v.into_iter();
        }
    }
}

/// What a block's whole text is searched for, so that only the lines it occurs in are tested:
/// the needle at `first` (which a line it is found in need not be searched for again), else
/// what every line the filter keeps holds (the filter still tests each such line).
pub(crate) fn search<'a>(
    needles: &'a [memmem::Finder<'static>],
    first: Option<usize>,
    filter: Option<&'a model::LinePredicate>,
) -> Option<&'a dyn model::TextSearch> {
    match first {
        Some(i) => Some(&needles[i]),
        None => filter.and_then(|p| p.search()),
    }
}

/// The index of the needle to search a block's whole text for first: the longest, usually the
/// rarest. The lines it yields hold that needle; the others are then looked for in them.
pub(crate) fn longest(needles: &[memmem::Finder<'static>]) -> Option<usize> {
    (0..needles.len()).max_by_key(|&i| needles[i].needle().len())
}

/// Whether `line` holds every needle but the one at index `found`.
pub(crate) fn all_found(needles: &[memmem::Finder<'static>], found: Option<usize>, line: &[u8]) -> bool {
    needles.iter().enumerate().all(|(i, f)| Some(i) == found || f.find(line).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(ts: i64, line: &str) -> Entry {
        Entry { ts, line: line.to_string(), metadata: Default::default() }
    }

    /// Overlapping sources merge in order in both directions; exact duplicates go, distinct
    /// lines at one time stay, whichever source they come from.
    #[test]
    fn merge_keeps_order_and_drops_exact_duplicates_only() {
        let sources = || {
            vec![
                Source::Memory(vec![e(1, "a"), e(2, "b"), e(2, "c"), e(5, "d"), e(9, "z")]),
                Source::Memory(vec![e(2, "b"), e(3, "x"), e(5, "d"), e(5, "e")]),
                Source::Memory(vec![e(5, "e"), e(6, "f")]),
                Source::Memory(vec![e(10, "g"), e(11, "h")]),
            ]
        };
        let want = ["a", "b", "c", "x", "d", "e", "f", "z", "g", "h"];
        let read = |dir| -> Vec<(i64, String)> {
            StreamReader::new(sources(), 0, 100, dir, Arc::new(Vec::new()), Arc::default())
                .map(|e| (e.ts, e.line))
                .collect()
        };
        let fwd = read(Direction::Forward);
        assert!(fwd.windows(2).all(|w| w[0].0 <= w[1].0), "{fwd:?}");
        let mut lines: Vec<&str> = fwd.iter().map(|(_, l)| l.as_str()).collect();
        lines.sort_unstable();
        let mut sorted = want.to_vec();
        sorted.sort_unstable();
        assert_eq!(lines, sorted, "{fwd:?}");
        let bwd = read(Direction::Backward);
        assert!(bwd.windows(2).all(|w| w[0].0 >= w[1].0), "{bwd:?}");
        assert_eq!(bwd.len(), want.len(), "{bwd:?}");
    }

    /// A reader holding little of a block at once returns exactly what a reader holding whole
    /// blocks returns, in both directions, with needles and bounds, across runs of entries at
    /// one time and a memory source overlapping the blocks; it reads blocks again to do so.
    #[test]
    fn readers_holding_parts_of_blocks_return_what_whole_blocks_do() {
        let dir = tempfile::tempdir().unwrap();
        let files = Arc::new(crate::files::FileCache::new(8));
        let mut head = crate::head::Head::default();
        for i in 0..6_000i64 {
            // Runs of up to five entries at one time, some lines holding the needle.
            let ts = i - i % 5 + (i % 7 == 0) as i64;
            let needle = if i % 3 == 0 { "needle" } else { "" };
            head.push(ts * 1000, &format!("line {i} {needle} {}", "x".repeat(i as usize % 50)), &Default::default());
        }
        let labels = model::Labels::from_pairs([("app", "a")]).unwrap();
        let seg = Arc::new(
            crate::segment::write(
                dir.path(),
                1,
                0,
                &[("t", &labels, &head)],
                crate::block::Encoding { level: 1, block_bytes: 64 << 10, grams: true },
                &files,
            )
            .unwrap(),
        );
        let nblocks = seg.streams[0].blocks.len();
        assert!(nblocks >= 3);
        let memory: Vec<Entry> = (0..50).map(|i| e(i * 97_000 + 500, &format!("memory {i} needle"))).collect();
        let sources = || {
            let mut v: Vec<Source> =
                (0..nblocks).map(|b| Source::Block { seg: seg.clone(), stream: 0, block: b }).collect();
            v.push(Source::Memory(memory.clone()));
            v
        };
        let needle = || Arc::new(vec![memmem::Finder::new(b"needle").into_owned()]);
        for dir in [Direction::Forward, Direction::Backward] {
            for (needles, start, end) in [(Arc::new(Vec::new()), 0, i64::MAX), (needle(), 777_000, 4_444_000)] {
                let read = |budget: Option<(usize, usize)>| {
                    let stats = Arc::new(ReadStats::default());
                    let r = StreamReader::new(sources(), start, end, dir, needles.clone(), stats.clone());
                    let r = match budget {
                        Some((bytes, most)) => r.holding(bytes, most),
                        None => r,
                    };
                    let v: Vec<(i64, String)> = r.map(|e| (e.ts, e.line)).collect();
                    (v, stats.blocks_read.load(Ordering::Relaxed))
                };
                let (whole, reads) = read(None);
                assert!(whole.len() > 100);
                for budget in [(1, usize::MAX), (700, usize::MAX), (5_000, usize::MAX), (usize::MAX, 3), (10_000, 40)] {
                    let (parts, rereads) = read(Some(budget));
                    assert_eq!(parts, whole, "{dir:?}, budget {budget:?}");
                    assert!(rereads > reads, "{dir:?}, budget {budget:?}: blocks read again ({rereads} > {reads})");
                }
            }
        }
    }
}
