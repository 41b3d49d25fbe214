//! Log queries: streams through the pipeline, merged in time order up to the limit; and the
//! regrouping of streams for the `categorize-labels` encoding.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use model::{Direction, Entry, Labels, Matcher};

use super::context::Ctx;
use super::{EngineError, LogStream, QueryParams, SelectRequest};
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

pub(crate) fn eval_log(ctx: &mut Ctx, l: &LogExpr, q: &QueryParams) -> Result<Vec<LogStream>, EngineError> {
    let req = SelectRequest {
        matchers: l.matchers.clone(),
        start: q.start,
        end: q.end,
        direction: q.direction,
        required_substrings: pipeline::required_substrings(&l.stages),
    };
    let proto = Pipeline::new(&l.stages)?;
    let streams = ctx.src.select(&req)?;
    type StreamIter = (Labels, Box<dyn Iterator<Item = Entry> + Send>, Pipeline, Option<(Labels, String)>);
    let mut iters: Vec<StreamIter> = streams.into_iter().map(|s| (s.labels, s.entries, proto.clone(), None)).collect();
    let forward = q.direction == Direction::Forward;
    let nstreams = iters.len();
    // pull the next kept entry of stream i
    let mut next_of = |ctx: &mut Ctx, i: usize| -> Result<Option<(String, LogEntryOut)>, EngineError> {
        let (labels, it, p, cache) = &mut iters[i];
        for e in it.by_ref() {
            ctx.check()?;
            if e.ts < q.start || e.ts >= q.end {
                continue;
            }
            ctx.account(&e);
            if let Some(o) = p.process(labels, &e) {
                ctx.stats.total_post_filter_lines += 1;
                let key = match cache {
                    Some((l, k)) if *l == o.labels => k.clone(),
                    _ => {
                        let k = o.labels.to_string();
                        *cache = Some((o.labels.clone(), k.clone()));
                        k
                    }
                };
                return Ok(Some((key, o)));
            }
        }
        Ok(None)
    };
    let mut heads: std::collections::BinaryHeap<Head> = std::collections::BinaryHeap::new();
    for i in 0..nstreams {
        if let Some((k, o)) = next_of(ctx, i)? {
            heads.push(Head { key: (o.ts, k), out: o, idx: i, forward });
        }
    }
    let mut result: BTreeMap<String, LogStream> = BTreeMap::new();
    let mut returned = 0u32;
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
        result
            .entry(h.key.1)
            .or_insert_with(|| LogStream { labels: o.labels.clone(), entries: Vec::new() })
            .entries
            .push(o);
    }
    Ok(result.into_values().collect())
}
