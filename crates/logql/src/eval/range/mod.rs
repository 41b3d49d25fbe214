//! Range aggregations (`rate`, `count_over_time`, `sum_over_time` of an unwrapped label, ...):
//! `plan` decides what to read and how entries become samples, `accumulate` runs the pipeline
//! over the streams (a share per core, each into its own accumulator), `merge` joins the
//! accumulators and computes each step's vector with the window `functions`.

mod accumulate;
mod functions;
mod merge;
mod plan;

use accumulate::{Acc, accumulate_stats, accumulate_streams};
use merge::{bucketed_steps, sampled_steps};
use plan::RangePlan;

use super::context::Ctx;
use super::query::Vector;
use super::{EngineError, SelectRequest};
use crate::ast::{Grouping, RangeAgg};

/// One vector per step of `r` (grouped by `pushed` when an outer aggregation pushed its
/// grouping down).
pub(crate) fn eval_range_agg(
    ctx: &mut Ctx,
    r: &RangeAgg,
    steps: &[i64],
    pushed: Option<&Grouping>,
) -> Result<Vec<Vector>, EngineError> {
    let (plan, pipe) = RangePlan::new(r, steps, pushed)?;
    let mut acc = Acc::default();
    // Counting without a pipeline (or with only `|= "text"` filters, which the source applies
    // as required substrings) is answered from the entries' metadata when the source can.
    // Stages that change nothing (Grafana's `|= ""`, `drop __error__`) do not count.
    let stages = &*crate::pipeline::without_noops(&r.range.log.stages, plan.series_by());
    let substrings_only = crate::pipeline::only_required_substrings(stages);
    // Other line filters (regexes, negations, patterns) are the source's to apply too.
    let line_filter = if substrings_only { None } else { crate::pipeline::line_filters_predicate(stages) };
    let fast = if plan.bucketed && (stages.is_empty() || substrings_only || line_filter.is_some()) {
        // Without any stage, whole blocks may be counted from their metadata.
        let summaries = if stages.is_empty() { plan.summaries() } else { None };
        let req = SelectRequest { line_filter: line_filter.clone(), summaries, ..plan.req.clone() };
        ctx.src.select_stats(&req)?
    } else {
        None
    };
    let used_fast = fast.is_some();
    if let Some(streams) = fast {
        // The filters were the source's; what is left of the pipeline (nothing) only makes the
        // labels.
        let labels_only = crate::pipeline::Pipeline::new(&[])?;
        for part in accumulate_stats(ctx, &plan, &labels_only, streams)? {
            acc.merge(part, &mut ctx.stats);
        }
    }
    let streams = if used_fast { Vec::new() } else { select_spread(ctx, &plan)? };
    for part in accumulate_streams(ctx, &plan, streams, &pipe)? {
        acc.merge(part, &mut ctx.stats);
    }
    ctx.check_now()?;
    let out = if plan.bucketed { bucketed_steps(&plan, acc)? } else { sampled_steps(ctx, &plan, acc)? };
    ctx.check_now()?;
    Ok(out)
}

/// The streams a range aggregation reads, as enough parts to keep every core busy. A bucketed
/// plan (`count_over_time`, `rate`, `bytes_over_time`, `bytes_rate`) adds each entry to the one
/// segment between window bounds that holds its time, so disjoint time spans of a stream can be
/// accumulated apart and merged like streams are: with fewer streams than threads, each stream
/// is read as one span per thread. Exact duplicates share their time, so each span still drops
/// them.
fn select_spread(ctx: &mut Ctx, plan: &RangePlan) -> Result<Vec<super::SelectedStream>, EngineError> {
    let (start, end, parts) = (plan.req.start, plan.req.end, ctx.threads as i64);
    if !plan.bucketed || parts <= 1 || end.saturating_sub(start) < parts {
        return ctx.src.select(&plan.req);
    }
    let n = ctx.src.stream_count(&plan.req)? as i64;
    if n == 0 || n >= parts {
        return ctx.src.select(&plan.req);
    }
    let span = (end - start) / parts;
    let mut out = Vec::new();
    for k in 0..parts {
        let from = start + span * k;
        let to = if k == parts - 1 { end } else { from + span };
        out.extend(ctx.src.select(&SelectRequest { start: from, end: to, ..plan.req.clone() })?);
    }
    Ok(out)
}
