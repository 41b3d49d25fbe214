//! Merging the per-thread accumulations, then computing each step's vector: from the window
//! segments' prefix sums (bucketed plans) or from each window's sorted samples.

use model::{Labels, Matcher};

use super::accumulate::Acc;
use super::functions::range_fn;
use super::plan::RangePlan;
use crate::ast::RangeOp;
use crate::eval::context::{Ctx, pipeline_error};
use crate::eval::query::Vector;
use crate::eval::{EngineError, Stats};
use crate::pipeline::labels::{ERROR_LABEL, PRESERVE_ERROR_LABEL, sorted_labels};

impl Acc {
    /// Adds another thread's accumulation (series in its order) to this one; its statistics go
    /// to `stats`.
    pub(super) fn merge(&mut self, part: Acc, stats: &mut Stats) {
        stats.total_lines_processed += part.stats.total_lines_processed;
        stats.total_bytes_processed += part.stats.total_bytes_processed;
        stats.total_structured_metadata_bytes_processed += part.stats.total_structured_metadata_bytes_processed;
        for (i, (l, pts)) in part.series.into_iter().enumerate() {
            let idx = self.slot(l);
            self.series[idx].1.extend(pts);
            if let Some(bk) = part.buckets.get(i).filter(|b| !b.is_empty()) {
                if self.buckets.len() <= idx {
                    self.buckets.resize_with(idx + 1, Vec::new);
                }
                let dst = &mut self.buckets[idx];
                if dst.is_empty() {
                    dst.resize(bk.len(), (0, 0.0));
                }
                for (d, s) in dst.iter_mut().zip(bk) {
                    d.0 += s.0;
                    d.1 += s.1;
                }
            }
        }
    }
}

/// Whether a series fails the query: it has `__error__` that was not asked for. Loki keeps
/// parser errors (`json`, `logfmt`, `unpack`) when `__error__` is among the parser hints, that
/// is when a `by (...)` grouping (the range aggregation's, or a `sum`'s pushed into `count`,
/// `rate`, `bytes`, `bytes_rate` or `sum_over_time`) or a label filter names it; any other
/// error (label filter, template, unwrap conversion) still fails.
fn fails(l: &Labels) -> bool {
    l.get(ERROR_LABEL).is_some() && l.get(PRESERVE_ERROR_LABEL) != Some("true")
}

/// Each step's vector of a bucketed plan (count, rate, bytes, bytes_rate without unwrap): a
/// window's count and sum are differences of the segments' prefix sums.
pub(super) fn bucketed_steps(plan: &RangePlan, acc: Acc) -> Result<Vec<Vector>, EngineError> {
    let (range, off, bounds) = (plan.range, plan.off, &plan.bounds);
    let Acc { series, mut buckets, .. } = acc;
    buckets.resize_with(series.len(), Vec::new);
    let mut prefixes: Vec<(Labels, Vec<(u64, f64)>)> = Vec::new();
    for ((l, _), bk) in series.into_iter().zip(buckets) {
        if bk.is_empty() {
            continue;
        }
        if fails(&l) {
            return Err(pipeline_error(&l));
        }
        let mut p = Vec::with_capacity(bk.len() + 1);
        let (mut c, mut v) = (0u64, 0.0);
        p.push((0, 0.0));
        for (bc, bv) in bk {
            c += bc as u64;
            v += bv;
            p.push((c, v));
        }
        prefixes.push((l, p));
    }
    let secs = range as f64 / 1e9;
    let mut out = Vec::with_capacity(plan.steps.len());
    for &t in plan.steps {
        let lo = bounds.partition_point(|&b| b < t.saturating_sub(off).saturating_sub(range));
        let hi = bounds.partition_point(|&b| b < t.saturating_sub(off));
        let mut vec = Vec::new();
        for (l, p) in &prefixes {
            let (c, v) = (p[hi + 1].0 - p[lo + 1].0, p[hi + 1].1 - p[lo + 1].1);
            if c == 0 {
                continue;
            }
            let x = match plan.agg.op {
                RangeOp::Count => c as f64,
                RangeOp::Rate => c as f64 / secs,
                RangeOp::Bytes => v,
                _ => v / secs,
            };
            vec.push((l.clone(), x));
        }
        out.push(vec);
    }
    Ok(out)
}

/// Each step's vector from the samples in its window (sorted by time first); a series with
/// `__error__` that has a sample in some window fails the query, as in Loki, unless a parser
/// marked it `__preserve_error__="true"` (see [`fails`]).
pub(super) fn sampled_steps(ctx: &mut Ctx, plan: &RangePlan, acc: Acc) -> Result<Vec<Vector>, EngineError> {
    let (range, off, r) = (plan.range, plan.off, plan.agg);
    let mut grouped: Vec<(Labels, Vec<(i64, f64)>)> = Vec::with_capacity(acc.series.len());
    for (l, mut pts) in acc.series {
        if fails(&l) && pts.iter().any(|p| plan.in_window(p.0)) {
            return Err(pipeline_error(&l));
        }
        if !pts.is_sorted_by_key(|p| p.0) {
            pts.sort_by_key(|p| p.0);
        }
        grouped.push((l, pts));
    }
    let mut out = Vec::with_capacity(plan.steps.len());
    for &t in plan.steps {
        let hi = t.saturating_sub(off);
        let lo = hi.saturating_sub(range);
        let mut vec = Vec::new();
        if r.op == RangeOp::Absent {
            let any = grouped.iter().any(|(_, pts)| {
                let a = pts.partition_point(|p| p.0 <= lo);
                let b = pts.partition_point(|p| p.0 <= hi);
                b > a
            });
            if !any {
                vec.push((absent_labels(&r.range.log.matchers), 1.0));
            }
            out.push(vec);
            continue;
        }
        for (l, pts) in &grouped {
            let a = pts.partition_point(|p| p.0 <= lo);
            let b = pts.partition_point(|p| p.0 <= hi);
            if b > a {
                vec.push((l.clone(), range_fn(r.op, r.param, &pts[a..b], range, hi)));
            }
        }
        out.push(vec);
        ctx.check()?;
    }
    Ok(out)
}

/// The labels of `absent_over_time`'s sample: the selector's equality matchers whose name
/// appears once.
fn absent_labels(ms: &[Matcher]) -> Labels {
    let mut v: Vec<(String, String)> = Vec::new();
    let mut dup: Vec<String> = Vec::new();
    for m in ms {
        if m.op != model::MatchOp::Eq {
            dup.push(m.name.clone());
            continue;
        }
        if v.iter().any(|(k, _)| *k == m.name) {
            dup.push(m.name.clone());
        }
        v.push((m.name.clone(), m.value.clone()));
    }
    v.retain(|(k, _)| !dup.contains(k));
    sorted_labels(v)
}
