//! What a query asks the store for ([`Select`]) and where the store finds it: each matching
//! stream's blocks, pruned by time, token and gram filters, and its in-memory entries, handed
//! to a reader that merges them ([`StreamReader`]) or counts them ([`StatsReader`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use memchr::memmem;
use model::{Direction, Labels, Matcher};

use crate::needles::Needles;
use crate::replicas::{self, Origin};
use crate::select::{ReadStats, Source, StatsReader, StreamReader};
use crate::{Store, digest};

/// What a query asks the store for.
#[derive(Debug, Clone)]
pub struct Select {
    pub tenant: String,
    pub matchers: Vec<Matcher>,
    /// Nanoseconds, `start` inclusive, `end` exclusive.
    pub start: i64,
    pub end: i64,
    pub direction: Direction,
    /// Case-sensitive substrings every wanted line contains: blocks whose filters prove
    /// a substring absent are skipped, and lines without them are not returned.
    pub required_substrings: Vec<String>,
    /// ASCII text every wanted line holds in some case of its letters: blocks whose filters
    /// prove it absent are skipped (lines are not tested for it).
    pub required_any_case: Vec<String>,
    /// For counting reads (`select_stats`): only lines it keeps are counted.
    pub line_filter: Option<model::LinePredicate>,
    /// For counting reads: blocks that may be answered from their metadata alone (off when
    /// `search_pruning` is, so the two can be compared).
    pub summaries: Option<model::Summaries>,
    /// Set when the streams are merged in time order (a log query), so that a block of each is
    /// open at once: the most entries taken from one stream (`usize::MAX`: not known). Each
    /// reader then holds at most this many of a block's entries, and a share of
    /// [`QUERY_HELD_BYTES`], at once (see [`StreamReader::holding`]). `None`: whole blocks
    /// (streams read one after another).
    pub take: Option<usize>,
}

/// Bytes of entries a log query's stream readers hold at once, shared among its streams (see
/// [`Select::take`]); each holds at least [`MIN_HELD_PER_STREAM`].
pub const QUERY_HELD_BYTES: usize = 32 << 20;
pub const MIN_HELD_PER_STREAM: usize = 64 << 10;

impl Store {
    /// Readers for every matching stream with data in the window, pruned by time and tokens.
    pub fn select(&self, q: &Select, stats: Arc<ReadStats>) -> Vec<(Labels, StreamReader)> {
        let needles = needles(q);
        let groups = self.sources(q, &stats, false);
        let share = (QUERY_HELD_BYTES / groups.len().max(1)).max(MIN_HELD_PER_STREAM);
        groups
            .into_iter()
            .map(|g| {
                let r = StreamReader::new(g.sources, q.start, q.end, q.direction, needles.clone(), stats.clone());
                (g.labels, if let Some(take) = q.take { r.holding(share, take) } else { r })
            })
            .collect()
    }

    /// Like `select`, for queries that only count entries or bytes: timestamps, line lengths and
    /// metadata come from the blocks' column frames; no line is decompressed. A stream whose
    /// blocks' lines are searched may come as several readers with the same labels, to be
    /// counted apart and added up ([`StatsReader::in_parts`]).
    pub fn select_stats(&self, q: &Select, stats: Arc<ReadStats>) -> Vec<(Labels, StatsReader)> {
        let needles = needles(q);
        let summaries = q.summaries.as_ref().filter(|_| self.cfg.load().search_pruning);
        // With other writers, whole digest windows are gathered, so that each writer's copy of
        // a window can be compared with the others' (`replicas.rs`).
        let gathered = if self.tier.is_some() {
            let mut wide = q.clone();
            wide.start = digest::window_start(digest::window_of(q.start));
            wide.end = digest::window_end(digest::window_of(q.end.saturating_sub(1))).saturating_add(1);
            self.sources(&wide, &stats, q.line_filter.is_none())
        } else {
            self.sources(q, &stats, q.line_filter.is_none())
        };
        // Blocks whose lines are read (to find substrings, or to compare copies two writers
        // hold) are fetched from the bucket before the readers reach them (`tier/prefetch.rs`).
        let reads_lines = !needles.is_empty() || q.line_filter.is_some();
        // Only with a bucket can a block be out of this disk.
        let bucket = self.tier.is_some();
        let mut fetch: Vec<Source> = Vec::new();
        let readers = gathered
            .into_iter()
            .flat_map(|g| {
                let whole_blocks = summaries.is_some_and(|s| s.applies_to(&g.labels));
                let several = g.several();
                let r = StatsReader::new(Vec::new(), q.start, q.end, needles.clone(), stats.clone())
                    .with_line_filter(q.line_filter.clone())
                    .with_summaries(summaries.cloned(), whole_blocks);
                if !several {
                    if reads_lines && bucket {
                        fetch.extend(blocks(&g.sources));
                    }
                    return r.in_parts(g.sources).into_iter().map(|p| (g.labels.clone(), p)).collect();
                }
                let plan = replicas::plan(g.sources, g.origins, q.start, q.end);
                fetch.extend(blocks(&plan.dirty));
                if reads_lines {
                    fetch.extend(blocks(&plan.whole));
                    fetch.extend(plan.partly.iter().flat_map(|(_, s)| blocks(s)));
                }
                vec![(g.labels, r.replicated(plan))]
            })
            .collect();
        self.prefetch(&fetch);
        readers
    }

    /// Every source of each matching stream: this node's (`local_sources`) and what other live
    /// writers hold and have not uploaded (`tier/live.rs`), with who holds each; theirs as
    /// identities only with `identities` (a count whose lines need no filter).
    fn sources(&self, q: &Select, stats: &ReadStats, identities: bool) -> Vec<Gathered> {
        let live = self.live_entries(q, stats, identities);
        // Segments a writer answered live and may also be listed here: read from its answer.
        let answered: HashSet<(Origin, &str)> =
            live.iter().flat_map(|w| w.answer.uploaded.iter().map(move |k| (w.origin, k.as_str()))).collect();
        let mut out: Vec<Gathered> = self
            .local_sources(q, stats, None)
            .into_iter()
            .map(|(labels, mut sources)| {
                if !answered.is_empty() {
                    sources.retain(|s| !answered.contains(&(origin(s), key(s))));
                }
                let origins = sources.iter().map(origin).collect();
                Gathered { labels, sources, origins }
            })
            .collect();
        let mut at: HashMap<Labels, usize> = out.iter().enumerate().map(|(i, g)| (g.labels.clone(), i)).collect();
        for w in live {
            let a = w.answer;
            let streams = a.streams.into_iter().map(|(l, e)| (l, Source::Memory(e)));
            let ids = a.identities.into_iter().map(|(l, e)| (l, Source::Identities(e)));
            for (labels, src) in streams.chain(ids) {
                let i = *at.entry(labels.clone()).or_insert_with(|| {
                    out.push(Gathered { labels, sources: Vec::new(), origins: Vec::new() });
                    out.len() - 1
                });
                out[i].sources.push(src);
                out[i].origins.push(w.origin);
            }
        }
        out
    }

    /// Where each matching stream's entries in the window are on this node: blocks (pruned by
    /// time and token filters) and in-memory entries; with `unuploaded`, only this writer's own
    /// blocks a node that listed the bucket at `unlisted_by` (Unix ms, 0: unknown) may not
    /// read there yet (`tier/live.rs`).
    pub(crate) fn local_sources(
        &self,
        q: &Select,
        stats: &ReadStats,
        unlisted_by: Option<u64>,
    ) -> Vec<(Labels, Vec<Source>)> {
        let needles = if self.cfg.load().search_pruning {
            Needles::new(&q.required_substrings, &q.required_any_case)
        } else {
            Needles::default()
        };
        let inner = self.inner.lock();
        let streams = self.streams_in(&inner, &q.tenant, &q.matchers, q.start, q.end);
        let mut out = Vec::with_capacity(streams.len());
        for (sid, labels) in streams {
            let mut sources = Vec::new();
            for s in &inner.segments {
                if s.seg.max_ts < q.start || s.seg.min_ts >= q.end {
                    continue;
                }
                if unlisted_by.is_some_and(|at| !self.maybe_unlisted(&s.seg, at)) {
                    continue;
                }
                let Some(&idx) = s.streams.get(&q.tenant).and_then(|m| m.get(&sid)) else { continue };
                for (bi, b) in s.seg.streams[idx].blocks.iter().enumerate() {
                    if b.max_ts < q.start || b.min_ts >= q.end {
                        continue;
                    }
                    if !s.seg.may_contain(b, &needles) {
                        stats.blocks_skipped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    sources.push(Source::Block { seg: s.seg.clone(), stream: idx, block: bi });
                }
            }
            let t = &inner.tenants[&q.tenant];
            let mut mem = t.streams[sid as usize].head.range(q.start, q.end);
            for f in inner.flushing.iter().filter(|f| f.tenant == q.tenant && f.sid == sid) {
                let part = f.head.range(q.start, q.end);
                if !part.is_empty() {
                    sources.push(Source::Memory(part));
                }
            }
            if !mem.is_empty() {
                mem.shrink_to_fit();
                sources.push(Source::Memory(mem));
            }
            out.push((labels, sources));
        }
        out
    }
}

/// One stream's sources, and who holds each.
struct Gathered {
    labels: Labels,
    sources: Vec<Source>,
    origins: Vec<Origin>,
}

impl Gathered {
    /// Whether more than one writer holds some of it (and they may hold the same entries).
    fn several(&self) -> bool {
        self.origins.first().is_some_and(|f| self.origins.iter().any(|o| o != f))
    }
}

/// Who holds a source: 0 for this node (its own segments, uploaded or not, and heads), else the
/// writer whose segments this node reads from the bucket.
fn origin(s: &Source) -> Origin {
    match s {
        Source::Block { seg, .. } => seg.origin().map_or(0, |p| p as usize as u64),
        Source::Memory(_) | Source::Identities(_) => 0,
    }
}

/// A source's bucket key, if it is a block of a segment in the bucket tier.
fn key(s: &Source) -> &str {
    match s {
        Source::Block { seg, .. } => seg.remote.as_ref().map_or("", |r| r.key.as_str()),
        Source::Memory(_) | Source::Identities(_) => "",
    }
}

/// The blocks among `sources`, to prefetch.
fn blocks(sources: &[Source]) -> impl Iterator<Item = Source> + '_ {
    sources.iter().filter(|s| matches!(s, Source::Block { .. })).cloned()
}

/// A query's required substrings as searchers (entries without all of them are left out).
pub(crate) fn needles(q: &Select) -> Arc<Vec<memmem::Finder<'static>>> {
    Arc::new(
        q.required_substrings
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| memmem::Finder::new(s.as_bytes()).into_owned())
            .collect(),
    )
}
