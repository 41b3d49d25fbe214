//! Accumulating samples: each thread runs the pipeline over its share of the streams into its
//! own `Acc` (series with their samples, or per-window-segment counts when bucketed).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use model::{Entry, Labels};

use super::plan::{KeyPairs, RangePlan};
use crate::ast::{Conv, RangeOp};
use crate::eval::context::{CHECK_EVERY, Ctx, check};
use crate::eval::{EngineError, SelectedStats, SelectedStream, Stats};
use crate::go;
use crate::pipeline::Pipeline;
use crate::pipeline::labels::{ERR_SAMPLE_EXTRACTION, LabelsBuilder};

/// One thread's accumulation: series (labels and samples, or counts per window segment).
#[derive(Default)]
pub(super) struct Acc {
    pub(super) index: HashMap<Labels, usize>,
    pub(super) series: Vec<(Labels, Vec<(i64, f64)>)>,
    /// Per series, (entries, value) per segment between window boundaries (bucketed plans).
    pub(super) buckets: Vec<Vec<(u32, f64)>>,
    pub(super) stats: Stats,
    /// Series by the hash of their key ([`RangePlan::key_hash`]), so a sample finds its series
    /// without its labels being built (verified with [`RangePlan::key_is`]).
    by_hash: HashMap<u64, usize, std::hash::BuildHasherDefault<Prehashed>>,
    /// The segment of the last entry: entries come mostly in time order, so the next one is
    /// usually in the same segment and needs no search.
    hint: usize,
    /// Buckets laid out so far, over all series (see [`MAX_CELLS`]).
    cells: usize,
}

/// The most (entries, value) buckets one accumulator lays out: 16 bytes each, for every series
/// and every segment between window boundaries, so 500 series (the most an answer may have)
/// over 11,000 steps of windows not aligned to them (22,000 segments). A query over more
/// series than that (a label taken from every line) is refused instead of taking gigabytes:
/// its series are counted before they are aggregated.
pub(super) const MAX_CELLS: usize = 12 << 20;

impl Acc {
    /// The index of the series with these labels, created when new.
    pub(super) fn slot(&mut self, labels: Labels) -> usize {
        if let Some(&i) = self.index.get(&labels) {
            return i;
        }
        self.series.push((labels.clone(), Vec::new()));
        self.index.insert(labels, self.series.len() - 1);
        self.series.len() - 1
    }

    /// The index of the series of the builder's sample (as `slot(plan.key(b))`): found by the
    /// hash of its key's pairs when seen before, the labels only built for a new series.
    pub(super) fn slot_for(&mut self, plan: &RangePlan, b: &LabelsBuilder) -> usize {
        let mut pairs = KeyPairs::new();
        let Some(h) = plan.key_pairs(b, &mut pairs) else { return self.slot(plan.key(b)) };
        if let Some(&i) = self.by_hash.get(&h)
            && pairs.are(&self.series[i].0)
        {
            return i;
        }
        let i = self.slot(plan.key(b));
        if pairs.are(&self.series[i].0) {
            self.by_hash.insert(h, i);
        }
        i
    }

    /// Adds one entry's value to the segment of series `idx` that holds `ts`.
    fn add_to_bucket(
        &mut self,
        idx: usize,
        bounds: &[i64],
        ts: i64,
        entries: u32,
        value: f64,
    ) -> Result<(), EngineError> {
        if self.buckets.len() <= idx {
            self.buckets.resize_with(idx + 1, Vec::new);
        }
        let bk = &mut self.buckets[idx];
        if bk.is_empty() {
            self.cells += bounds.len() + 1;
            if self.cells > MAX_CELLS {
                return Err(too_many_cells(self.series.len(), bounds.len() + 1));
            }
            bk.resize(bounds.len() + 1, (0, 0.0));
        }
        let h = self.hint;
        let k = if (h == 0 || bounds[h - 1] < ts) && (h == bounds.len() || ts <= bounds[h]) {
            h
        } else {
            bounds.partition_point(|&b| b < ts)
        };
        self.hint = k;
        bk[k].0 += entries;
        bk[k].1 += value;
        Ok(())
    }
}

fn too_many_cells(series: usize, segments: usize) -> EngineError {
    EngineError::Limit(format!(
        "the query's range aggregation reached {series} series over {segments} time segments, more than {MAX_CELLS} values in all: aggregate it further (sum by a few labels), shorten its time range or raise its step"
    ))
}

/// A hasher for keys that already are hashes.
#[derive(Default)]
pub(super) struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// An entry's structured metadata as the store shares it between entries.
type SharedMetadata = model::Metadata;

/// Counting without a pipeline: entries' lines are never needed, only their times, lengths
/// and metadata (which are sample labels). Each core takes a share of the streams (reading
/// their blocks' column frames) into its own accumulator, merged afterwards.
pub(super) fn accumulate_stats(
    ctx: &Ctx,
    plan: &RangePlan,
    pipe: &Pipeline,
    streams: Vec<SelectedStats>,
) -> Result<Vec<Acc>, EngineError> {
    let (cancel, deadline) = (ctx.cancel.clone(), ctx.deadline);
    in_shares(ctx.threads, streams, |share| stats_share(plan, share, pipe.clone(), cancel.as_ref(), deadline))
}

/// Runs `work` over `items` split round-robin into at most `threads` shares, one thread each
/// (on this thread when there is one share).
fn in_shares<T: Send>(
    threads: usize,
    items: Vec<T>,
    work: impl Fn(Vec<T>) -> Result<Acc, EngineError> + Sync,
) -> Result<Vec<Acc>, EngineError> {
    let n = threads.min(items.len()).max(1);
    if n <= 1 {
        return Ok(vec![work(items)?]);
    }
    let mut shares: Vec<Vec<T>> = (0..n).map(|_| Vec::new()).collect();
    for (i, s) in items.into_iter().enumerate() {
        shares[i % n].push(s);
    }
    let work = &work;
    let results: Vec<Result<Acc, EngineError>> = std::thread::scope(|sc| {
        let handles: Vec<_> = shares.into_iter().map(|share| sc.spawn(move || work(share))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(EngineError::Internal("query worker panicked".into()))))
            .collect()
    });
    results.into_iter().collect()
}

/// One thread's share of a counting query.
fn stats_share(
    plan: &RangePlan,
    streams: Vec<SelectedStats>,
    mut pipe: Pipeline,
    cancel: Option<&Arc<AtomicBool>>,
    deadline: Option<Instant>,
) -> Result<Acc, EngineError> {
    let mut acc = Acc::default();
    let pipe = &mut pipe;
    let acc_ref = &mut acc;
    let mut counter = 0u32;
    let req = &plan.req;
    // Without stages an entry's series depends only on its stream and its metadata, of which a
    // stream has few distinct sets (`detected_level`): the slot found for a set is kept and
    // reused (the store shares one allocation per set, so most checks are a pointer compare)
    // instead of building labels again.
    const KEPT: usize = 32;
    let noop = pipe.is_noop();
    for s in streams {
        // Between streams too: a stream may yield nothing for long (a rare needle).
        check(cancel, deadline)?;
        pipe.enter_stream(&s.labels);
        let mut known: Vec<(SharedMetadata, usize)> = Vec::new();
        for st in s.entries {
            counter = counter.wrapping_add(1);
            if counter.is_multiple_of(CHECK_EVERY) {
                check(cancel, deadline)?;
            }
            if st.ts < req.start || st.ts >= req.end || !plan.in_window(st.ts) {
                continue;
            }
            let acc = &mut *acc_ref;
            let md: u64 = st.metadata.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum::<u64>() * st.lines as u64;
            acc.stats.total_lines_processed += st.lines as u64;
            acc.stats.total_bytes_processed += st.bytes + md;
            acc.stats.total_structured_metadata_bytes_processed += md;
            let value = match plan.agg.op {
                RangeOp::Bytes | RangeOp::BytesRate => st.bytes as f64,
                _ => st.lines as f64,
            };
            if noop {
                let hit = match known.iter().position(|(m, _)| m.ptr_eq(&st.metadata)) {
                    Some(i) => Some(known[i].1),
                    // The same set from another block: keep this block's allocation, so the
                    // entries after this one match by pointer.
                    None => known.iter_mut().find(|(m, _)| *m == st.metadata).map(|k| {
                        k.0 = st.metadata.clone();
                        k.1
                    }),
                };
                if let Some(idx) = hit {
                    acc.add_to_bucket(idx, &plan.bounds, st.ts, st.lines, value)?;
                    continue;
                }
            }
            let shared = st.metadata.clone();
            let e = Entry { ts: st.ts, line: String::new(), metadata: st.metadata };
            if pipe.run_entry(&e).is_none() {
                continue;
            }
            let idx = acc.slot_for(plan, pipe.builder());
            acc.add_to_bucket(idx, &plan.bounds, st.ts, st.lines, value)?;
            if noop && known.len() < KEPT {
                known.push((shared, idx));
            }
        }
    }
    Ok(acc)
}

/// Streams are independent until their samples meet in a series: each core takes a share of
/// them (decompressing their blocks and running the pipeline) with its own accumulator, merged
/// afterwards.
pub(super) fn accumulate_streams(
    ctx: &Ctx,
    plan: &RangePlan,
    streams: Vec<SelectedStream>,
    pipe: &Pipeline,
) -> Result<Vec<Acc>, EngineError> {
    let (cancel, deadline) = (ctx.cancel.clone(), ctx.deadline);
    in_shares(ctx.threads, streams, |share| accumulate_share(plan, share, pipe.clone(), cancel.as_ref(), deadline))
}

/// One thread's work: its streams through its own copy of the pipeline.
fn accumulate_share(
    plan: &RangePlan,
    streams: Vec<SelectedStream>,
    mut pipe: Pipeline,
    cancel: Option<&Arc<AtomicBool>>,
    deadline: Option<Instant>,
) -> Result<Acc, EngineError> {
    let req = &plan.req;
    let mut acc = Acc::default();
    let mut counter = 0u32;
    for s in streams {
        // Between streams too: a stream may yield nothing for long (a rare needle).
        check(cancel, deadline)?;
        // series slot of entries whose labels the pipeline left untouched
        let mut base_slot: Option<usize> = None;
        pipe.enter_stream(&s.labels);
        for e in s.entries {
            counter = counter.wrapping_add(1);
            if counter.is_multiple_of(CHECK_EVERY) {
                check(cancel, deadline)?;
            }
            if e.ts < req.start || e.ts >= req.end {
                continue;
            }
            let md = e.metadata_bytes() as u64;
            acc.stats.total_lines_processed += 1;
            acc.stats.total_bytes_processed += e.line.len() as u64 + md;
            acc.stats.total_structured_metadata_bytes_processed += md;
            let Some(line) = pipe.run_entry(&e) else { continue };
            let value = match &plan.unwrap {
                None => match plan.agg.op {
                    RangeOp::Bytes | RangeOp::BytesRate => line.len() as f64,
                    _ => 1.0,
                },
                Some((u, post)) => {
                    drop(line);
                    let b = pipe.builder_mut();
                    let sv = b.get(&u.label).unwrap_or("");
                    if sv.is_empty() {
                        continue;
                    }
                    let conv = match u.conv {
                        None => go::parse_go_float(sv),
                        Some(Conv::Bytes) => go::parse_bytes(sv).map(|x| x as f64),
                        Some(Conv::Duration) | Some(Conv::DurationSeconds) => {
                            go::parse_go_duration(sv).map(go::duration_seconds)
                        }
                    };
                    let v = match conv {
                        Ok(v) => v,
                        Err(err) => {
                            b.set_err(ERR_SAMPLE_EXTRACTION, Some(&err));
                            0.0
                        }
                    };
                    if let Some(p) = post
                        && !p.run_on_builder(b)
                    {
                        continue;
                    }
                    v
                }
            };
            let b = pipe.builder();
            let idx = if b.is_unchanged() {
                match base_slot {
                    Some(i) => i,
                    None => {
                        let i = acc.slot_for(plan, b);
                        base_slot = Some(i);
                        i
                    }
                }
            } else {
                acc.slot_for(plan, b)
            };
            if plan.bucketed {
                if !plan.in_window(e.ts) {
                    continue;
                }
                acc.add_to_bucket(idx, &plan.bounds, e.ts, 1, value)?;
            } else {
                acc.series[idx].1.push((e.ts, value));
            }
        }
    }
    Ok(acc)
}
