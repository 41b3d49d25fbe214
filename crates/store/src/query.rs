//! What a query asks the store for ([`Select`]) and where the store finds it: each matching
//! stream's blocks, pruned by time, token and gram filters, and its in-memory entries, handed
//! to a reader that merges them ([`StreamReader`]) or counts them ([`StatsReader`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use memchr::memmem;
use model::{Direction, Labels, Matcher};

use crate::select::{ReadStats, Source, StatsReader, StreamReader};
use crate::{Store, grams, required_tokens};

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
    /// For counting reads (`select_stats`): only lines it keeps are counted.
    pub line_filter: Option<model::LinePredicate>,
    /// For counting reads: blocks that may be answered from their metadata alone (off when
    /// `search_pruning` is, so the two can be compared).
    pub summaries: Option<model::Summaries>,
}

impl Store {
    /// Readers for every matching stream with data in the window, pruned by time and tokens.
    pub fn select(&self, q: &Select, stats: Arc<ReadStats>) -> Vec<(Labels, StreamReader)> {
        let needles = needles(q);
        self.sources(q, &stats)
            .into_iter()
            .map(|(labels, sources, _)| {
                (labels, StreamReader::new(sources, q.start, q.end, q.direction, needles.clone(), stats.clone()))
            })
            .collect()
    }

    /// Like `select`, for queries that only count entries or bytes: timestamps, line lengths and
    /// metadata come from the blocks' column frames; no line is decompressed.
    pub fn select_stats(&self, q: &Select, stats: Arc<ReadStats>) -> Vec<(Labels, StatsReader)> {
        let needles = needles(q);
        let summaries = q.summaries.as_ref().filter(|_| self.cfg.load().search_pruning);
        let sources = self.sources(q, &stats);
        // Blocks whose lines are read (to find substrings, or copies two writers hold) are
        // fetched from the bucket before the readers reach them (`tier/prefetch.rs`).
        let reads_lines = !needles.is_empty() || q.line_filter.is_some();
        self.prefetch(sources.iter().filter(|(_, _, several)| *several || reads_lines).flat_map(|(_, s, _)| s));
        sources
            .into_iter()
            .map(|(labels, sources, several)| {
                let whole_blocks = summaries.is_some_and(|s| s.applies_to(&labels));
                let r = StatsReader::new(sources, q.start, q.end, needles.clone(), stats.clone())
                    .with_line_filter(q.line_filter.clone())
                    .with_summaries(summaries.cloned(), whole_blocks);
                (labels, if several { r.deduplicated() } else { r })
            })
            .collect()
    }

    /// Every source of each matching stream: this node's (`local_sources`) and what other live
    /// writers hold and have not uploaded (`tier/live.rs`), with whether they come from more
    /// than one writer (and may hold the same entries).
    fn sources(&self, q: &Select, stats: &ReadStats) -> Vec<(Labels, Vec<Source>, bool)> {
        let live = self.live_entries(q, stats);
        let mut out: Vec<(Labels, Vec<Source>, bool)> = self
            .local_sources(q, stats, None)
            .into_iter()
            .map(|(labels, sources)| {
                let several = crate::select::several_writers(&sources);
                (labels, sources, several)
            })
            .collect();
        if live.is_empty() {
            return out;
        }
        let mut at: HashMap<Labels, usize> = out.iter().enumerate().map(|(i, (l, _, _))| (l.clone(), i)).collect();
        for (labels, entries) in live.into_iter().filter(|(_, e)| !e.is_empty()) {
            match at.get(&labels) {
                Some(&i) => {
                    out[i].1.push(Source::Memory(entries));
                    out[i].2 = true;
                }
                None => {
                    at.insert(labels.clone(), out.len());
                    out.push((labels, vec![Source::Memory(entries)], true));
                }
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
        let (tokens, runs): (Vec<u64>, Vec<Vec<u8>>) = if self.cfg.load().search_pruning {
            (
                q.required_substrings.iter().flat_map(|s| required_tokens(s)).collect(),
                q.required_substrings.iter().flat_map(|s| grams::runs(s)).collect(),
            )
        } else {
            (Vec::new(), Vec::new())
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
                    if !b.may_contain(&tokens, &runs) {
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
