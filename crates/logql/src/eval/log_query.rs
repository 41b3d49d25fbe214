//! Log queries: streams through the pipeline, merged in time order up to the limit; and the
//! regrouping of streams for the `categorize-labels` encoding.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use model::{Direction, Entry, Labels, Matcher};

use super::context::{CHECK_EVERY, Ctx, check};
use super::{EngineError, LogStream, QueryParams, SelectRequest, Stats};
use crate::ast::*;
use crate::pipeline::{self, LogEntryOut, Pipeline};

/// Regroups log streams the way Loki does for the `categorize-labels` encoding: by the labels
/// that are neither structured metadata nor parsed (`LogEntryOut::stream`), streams sorted by
/// their label string, entries kept in query order (`direction`).
pub fn categorized_streams(streams: &[LogStream], direction: Direction) -> Vec<LogStream> {
    let mut all: Vec<(String, &LogEntryOut)> =
        streams.iter().flat_map(|s| s.entries.iter().map(|e| (s.labels.to_string(), e))).collect();
    all.sort_by(|a, b| {
        let t = if direction == Direction::Forward { a.1.ts.cmp(&b.1.ts) } else { b.1.ts.cmp(&a.1.ts) };
        t.then_with(|| a.0.cmp(&b.0))
    });
    let mut out: BTreeMap<String, LogStream> = BTreeMap::new();
    for (_, e) in all {
        out.entry(e.stream.to_string())
            .or_insert_with(|| LogStream { labels: e.stream.clone(), entries: Vec::new() })
            .entries
            .push(e.clone());
    }
    out.into_values().collect()
}

/// The matchers and the compiled pipeline of a log query (for live tail).
pub fn log_pipeline(expr: &Expr) -> Result<(Vec<Matcher>, Pipeline), EngineError> {
    match expr {
        Expr::Log(l) => Ok((l.matchers.clone(), Pipeline::new(&l.stages)?)),
        _ => Err(EngineError::BadRequest("only log queries can be tailed".into())),
    }
}

struct Head {
    key: (i64, String),
    out: LogEntryOut,
    idx: usize,
    forward: bool,
}

impl Head {
    /// "Greater" = should come out first of the (max-)heap.
    fn rank(&self, o: &Self) -> Ordering {
        let t = if self.forward { o.key.0.cmp(&self.key.0) } else { self.key.0.cmp(&o.key.0) };
        t.then_with(|| o.key.1.cmp(&self.key.1)).then_with(|| o.idx.cmp(&self.idx))
    }
}

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        self.rank(o) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    fn cmp(&self, o: &Self) -> Ordering {
        self.rank(o)
    }
}

/// One stream of a log query: its entries, its copy of the pipeline, the label string of its
/// last output labels, and the kept entries read ahead by [`read_ahead`].
struct StreamIter {
    labels: Labels,
    it: Box<dyn Iterator<Item = Entry> + Send>,
    pipe: Pipeline,
    cache: Option<(Labels, String)>,
    ahead: std::collections::VecDeque<(String, LogEntryOut)>,
}

impl StreamIter {
    /// The stream's next entry that the pipeline keeps, with its output labels' string.
    fn next_kept(
        &mut self,
        q: &QueryParams,
        stats: &mut Stats,
        counter: &mut u32,
        cancel: Option<&std::sync::Arc<std::sync::atomic::AtomicBool>>,
        deadline: Option<std::time::Instant>,
    ) -> Result<Option<(String, LogEntryOut)>, EngineError> {
        for e in self.it.by_ref() {
            *counter = counter.wrapping_add(1);
            if counter.is_multiple_of(CHECK_EVERY) {
                check(cancel, deadline)?;
            }
            if e.ts < q.start || e.ts >= q.end {
                continue;
            }
            stats.total_lines_processed += 1;
            stats.total_bytes_processed += (e.line.len() + e.metadata_bytes()) as u64;
            stats.total_structured_metadata_bytes_processed += e.metadata_bytes() as u64;
            if let Some(o) = self.pipe.process(&self.labels, &e) {
                stats.total_post_filter_lines += 1;
                let key = match &self.cache {
                    Some((l, k)) if *l == o.labels => k.clone(),
                    _ => {
                        let k = o.labels.to_string();
                        self.cache = Some((o.labels.clone(), k.clone()));
                        k
                    }
                };
                return Ok(Some((key, o)));
            }
        }
        Ok(None)
    }
}

/// Kept entries read ahead at most per stream, and for all streams together: enough to scan
/// streams with rare matches on every core, few enough that a common match (whose first entries
/// the merge needs from only some streams) costs little beyond what the merge reads anyway.
const READ_AHEAD_PER_STREAM: usize = 16;
const READ_AHEAD_BUDGET: usize = 50_000;

/// Reads ahead on every core: each thread takes a share of the streams and reads each one's
/// first kept entries (as many as the limit, within a budget for all of them), where the
/// decompression and the filtering happen; the merge in time order then mostly takes entries
/// already there, and reads on from a stream only past its read-ahead (exact either way).
fn read_ahead(ctx: &mut Ctx, iters: &mut [StreamIter], q: &QueryParams) -> Result<(), EngineError> {
    let per_stream = (q.limit as usize).min(READ_AHEAD_PER_STREAM).min((READ_AHEAD_BUDGET / iters.len()).max(1));
    let threads = ctx.threads.min(iters.len());
    let (cancel, deadline) = (ctx.cancel.clone(), ctx.deadline);
    let mut shares: Vec<Vec<&mut StreamIter>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, s) in iters.iter_mut().enumerate() {
        shares[i % threads].push(s);
    }
    let results: Vec<Result<Stats, EngineError>> = std::thread::scope(|sc| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                let cancel = cancel.as_ref();
                sc.spawn(move || -> Result<Stats, EngineError> {
                    let (mut stats, mut counter) = (Stats::default(), 0u32);
                    for s in share {
                        while s.ahead.len() < per_stream {
                            match s.next_kept(q, &mut stats, &mut counter, cancel, deadline)? {
                                Some(kept) => s.ahead.push_back(kept),
                                None => break,
                            }
                        }
                    }
                    Ok(stats)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(EngineError::Internal("query worker panicked".into()))))
            .collect()
    });
    for r in results {
        let st = r?;
        ctx.stats.total_lines_processed += st.total_lines_processed;
        ctx.stats.total_bytes_processed += st.total_bytes_processed;
        ctx.stats.total_structured_metadata_bytes_processed += st.total_structured_metadata_bytes_processed;
        ctx.stats.total_post_filter_lines += st.total_post_filter_lines;
    }
    Ok(())
}

/// The most line bytes a log query answers with. Lines are stored at most 256 KiB long, but a
/// `line_format` template may make each one 16 MiB: 100 of them took gigabytes (the lines, and
/// the copies the answer's encoding makes). 128 MiB is 5,000 lines of 26 KiB.
pub(crate) const MAX_ANSWER_BYTES: usize = 128 << 20;

pub(crate) fn eval_log(ctx: &mut Ctx, l: &LogExpr, q: &QueryParams) -> Result<Vec<LogStream>, EngineError> {
    let req = SelectRequest {
        matchers: l.matchers.clone(),
        start: q.start,
        end: q.end,
        direction: q.direction,
        required_substrings: pipeline::required_substrings(&l.stages),
        required_any_case: pipeline::required_any_case(&l.stages),
        line_filter: None,
        summaries: None,
        // Streams merged: a hint of what each reader may hold at once (it reads on for more).
        // A pipeline that drops entries may read a stream far past the limit.
        take: Some(if pipeline::keeps_every_entry_found(&l.stages) { q.limit as usize } else { usize::MAX }),
    };
    let proto = Pipeline::new(&l.stages)?;
    let streams = ctx.src.select(&req)?;
    let mut iters: Vec<StreamIter> = streams
        .into_iter()
        .map(|s| StreamIter {
            labels: s.labels,
            it: s.entries,
            pipe: proto.clone(),
            cache: None,
            ahead: Default::default(),
        })
        .collect();
    let forward = q.direction == Direction::Forward;
    let nstreams = iters.len();
    if ctx.threads > 1 && nstreams > 1 {
        read_ahead(ctx, &mut iters, q)?;
    }
    // pull the next kept entry of stream i
    let mut next_of = |ctx: &mut Ctx, i: usize| -> Result<Option<(String, LogEntryOut)>, EngineError> {
        let s = &mut iters[i];
        if let Some(kept) = s.ahead.pop_front() {
            return Ok(Some(kept));
        }
        let mut stats = std::mem::take(&mut ctx.stats);
        let mut counter = ctx.counter;
        let out = s.next_kept(q, &mut stats, &mut counter, ctx.cancel.as_ref(), ctx.deadline);
        ctx.stats = stats;
        ctx.counter = counter;
        out
    };
    let mut heads: std::collections::BinaryHeap<Head> = std::collections::BinaryHeap::new();
    for i in 0..nstreams {
        if let Some((k, o)) = next_of(ctx, i)? {
            heads.push(Head { key: (o.ts, k), out: o, idx: i, forward });
        }
    }
    let mut result: BTreeMap<String, LogStream> = BTreeMap::new();
    let mut returned = 0u32;
    let mut answer_bytes = 0usize;
    let mut last_ts: Option<i64> = None;
    let mut recent: Vec<LogEntryOut> = Vec::new();
    while returned < q.limit {
        let Some(h) = heads.pop() else { break };
        let idx = h.idx;
        if let Some((k, o)) = next_of(ctx, idx)? {
            heads.push(Head { key: (o.ts, k), out: o, idx, forward });
        }
        let o = h.out;
        // dedup identical entries
        if recent.first().is_some_and(|r| r.ts != o.ts) {
            recent.clear();
        }
        if recent.iter().any(|r| r.ts == o.ts && r.labels == o.labels && r.line == o.line && r.metadata == o.metadata) {
            continue;
        }
        recent.push(o.clone());
        if q.interval > 0
            && let Some(lt) = last_ts
        {
            let ok =
                if forward { o.ts >= lt.saturating_add(q.interval) } else { o.ts <= lt.saturating_sub(q.interval) };
            if !ok {
                continue;
            }
        }
        last_ts = Some(o.ts);
        returned += 1;
        answer_bytes += o.line.len();
        if answer_bytes > MAX_ANSWER_BYTES {
            return Err(EngineError::Limit(format!(
                "the answer's lines reached {answer_bytes} bytes after {returned} entries, more than {MAX_ANSWER_BYTES}: lower the limit, or shorten what line_format makes"
            )));
        }
        result
            .entry(h.key.1)
            .or_insert_with(|| LogStream { labels: o.labels.clone(), entries: Vec::new() })
            .entries
            .push(o);
    }
    Ok(result.into_values().collect())
}
