//! Planning a range aggregation: the select request, the parser hints, the pipeline and how
//! a sample's labels are keyed.

use std::hash::Hasher;

use model::{Direction, Labels};

use crate::ast::*;
use crate::eval::{EngineError, SelectRequest};
use crate::pipeline::labels::{LabelsBuilder, same, sorted_labels};
use crate::pipeline::{self, Pipeline};

/// Label names a pipeline reads (Loki's `RequiredLabelNames`).
fn required_labels(stages: &[Stage], post: &[LabelFilter]) -> Vec<String> {
    fn lf(f: &LabelFilter, out: &mut Vec<String>) {
        match f {
            LabelFilter::Matcher(m) => out.push(m.name.clone()),
            LabelFilter::Number { name, .. }
            | LabelFilter::Duration { name, .. }
            | LabelFilter::Bytes { name, .. }
            | LabelFilter::Ip { name, .. } => out.push(name.clone()),
            LabelFilter::And(a, b) | LabelFilter::Or(a, b) => {
                lf(a, out);
                lf(b, out);
            }
        }
    }
    let mut out = Vec::new();
    for s in stages {
        match s {
            Stage::LabelFilter(f) => lf(f, &mut out),
            Stage::LineFormat(t) => {
                if let Ok(t) = crate::template::Template::parse(t) {
                    out.extend(t.fields);
                }
            }
            Stage::LabelFormat(fmts) => {
                for f in fmts {
                    if f.rename {
                        out.push(f.value.clone());
                    } else if let Ok(t) = crate::template::Template::parse(&f.value) {
                        out.extend(t.fields);
                    }
                }
            }
            _ => {}
        }
    }
    for f in post {
        lf(f, &mut out);
    }
    out
}

fn label_hints(names: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for n in names {
        if let Some(t) = n.strip_suffix("_extracted") {
            out.push(t.to_string());
        }
        out.push(n);
    }
    out.sort();
    out.dedup();
    out
}

/// The most pairs a series key found by [`RangePlan::key_pairs`] has.
const KEY_PAIRS: usize = 8;

/// A series key's pairs, borrowed from the labels builder and the query.
pub(super) struct KeyPairs<'s> {
    pairs: [(&'s str, &'s str); KEY_PAIRS],
    n: usize,
}

impl KeyPairs<'_> {
    pub(super) fn new() -> Self {
        KeyPairs { pairs: [("", ""); KEY_PAIRS], n: 0 }
    }

    fn as_slice(&self) -> &[(&str, &str)] {
        &self.pairs[..self.n]
    }

    /// Whether these pairs make exactly `key` (a series' labels: sorted, no name twice).
    pub(super) fn are(&self, key: &Labels) -> bool {
        let s = key.as_slice();
        let pairs = self.as_slice();
        if pairs.len() != s.len() {
            return false;
        }
        // Each pair must be a distinct label of `key` (then, as many, they are all of them).
        let mut seen = 0u32;
        pairs.iter().all(|(k, v)| match s.iter().position(|(n, _)| same(n, k)) {
            Some(i) if same(&s[i].1, v) && seen & (1 << i) == 0 => {
                seen |= 1 << i;
                true
            }
            _ => false,
        })
    }
}

/// What a range aggregation reads and how it turns entries into samples, decided once before
/// any entry is read and shared (read-only) by the threads that accumulate.
pub(super) struct RangePlan<'a> {
    pub(super) agg: &'a RangeAgg,
    pub(super) steps: &'a [i64],
    /// The `[range]` in nanoseconds.
    pub(super) range: i64,
    /// The `offset` in nanoseconds.
    pub(super) off: i64,
    pub(super) req: SelectRequest,
    grouping: Option<&'a Grouping>,
    unwrap_label: Option<String>,
    /// The unwrap and the pipeline of its post-filters.
    pub(super) unwrap: Option<(&'a Unwrap, Option<Pipeline>)>,
    /// count/bytes aggregations don't keep samples: they are summed into the segments between
    /// window boundaries (`bounds`), so memory stays proportional to series x steps.
    pub(super) bucketed: bool,
    pub(super) bounds: Vec<i64>,
}

impl<'a> RangePlan<'a> {
    /// The plan and the compiled pipeline (with Loki's parser hints) every thread clones.
    pub(super) fn new(
        r: &'a RangeAgg,
        steps: &'a [i64],
        pushed: Option<&'a Grouping>,
    ) -> Result<(RangePlan<'a>, Pipeline), EngineError> {
        let range = r.range.interval;
        let off = r.range.offset;
        let first = steps[0];
        let last = *steps.last().unwrap();
        let req = SelectRequest {
            matchers: r.range.log.matchers.clone(),
            start: first.saturating_sub(off).saturating_sub(range).saturating_add(1),
            end: last.saturating_sub(off).saturating_add(1),
            direction: Direction::Forward,
            required_substrings: pipeline::required_substrings(&r.range.log.stages),
            required_any_case: pipeline::required_any_case(&r.range.log.stages),
            line_filter: None,
            summaries: None,
            take: None,
        };
        let grouping = pushed.or(r.grouping.as_ref());
        let unwrap_label = r.range.unwrap.as_ref().map(|u| u.label.clone());
        // Loki's parser hints: with `by` grouping (or none at all) parsers only extract what is used.
        let no_labels = grouping.is_some_and(|g| g.singleton()) || r.op == RangeOp::Absent;
        let post: &[LabelFilter] = r.range.unwrap.as_ref().map(|u| u.post_filters.as_slice()).unwrap_or(&[]);
        let hints = if no_labels {
            let mut req = required_labels(&r.range.log.stages, post);
            req.push(String::new());
            req.extend(unwrap_label.clone());
            Some(label_hints(req))
        } else if let Some(g) = grouping.filter(|g| !g.without && !g.labels.is_empty()) {
            let mut req = required_labels(&r.range.log.stages, post);
            req.extend(g.labels.iter().cloned());
            req.push(String::new());
            req.extend(unwrap_label.clone());
            Some(label_hints(req))
        } else {
            None
        };
        let pipe = Pipeline::new(&r.range.log.stages)?.with_hints(hints);
        let unwrap = match &r.range.unwrap {
            Some(u) => {
                let post = if u.post_filters.is_empty() {
                    None
                } else {
                    let stages: Vec<Stage> = u.post_filters.iter().cloned().map(Stage::LabelFilter).collect();
                    Some(Pipeline::new(&stages)?)
                };
                Some((u, post))
            }
            None => None,
        };
        let bucketed = r.range.unwrap.is_none()
            && matches!(r.op, RangeOp::Count | RangeOp::Rate | RangeOp::Bytes | RangeOp::BytesRate);
        let bounds: Vec<i64> = if bucketed {
            let mut b: Vec<i64> = steps
                .iter()
                .flat_map(|t| [t.saturating_sub(off).saturating_sub(range), t.saturating_sub(off)])
                .collect();
            b.sort_unstable();
            b.dedup();
            b
        } else {
            Vec::new()
        };
        let plan = RangePlan { agg: r, steps, range, off, req, grouping, unwrap_label, unwrap, bucketed, bounds };
        Ok((plan, pipe))
    }

    /// The series a sample belongs to: errors keep every label; otherwise grouping applies and
    /// the unwrapped label goes away (unless a `by` keeps it).
    pub(super) fn key(&self, b: &LabelsBuilder) -> Labels {
        if !b.err.is_empty() {
            return sorted_labels(b.unsorted());
        }
        match self.grouping {
            Some(g) if !g.without => b.grouped(&g.labels, false),
            Some(g) => {
                let mut w = g.labels.clone();
                w.extend(self.unwrap_label.clone());
                b.grouped(&w, true)
            }
            None => match &self.unwrap_label {
                Some(u) => b.grouped(std::slice::from_ref(u), true),
                None => sorted_labels(b.unsorted()),
            },
        }
    }

    /// The labels the series keep when a `by` grouping says which (`None`: every label).
    pub(super) fn series_by(&self) -> Option<&[String]> {
        self.grouping.filter(|g| !g.without).map(|g| g.labels.as_slice())
    }

    /// When entries may be counted in runs: counts or bytes summed per segment between window
    /// bounds. Whole blocks too when a `by` grouping keeps only labels a stream has, so that an
    /// entry's metadata cannot change its series.
    pub(super) fn summaries(&self) -> Option<model::Summaries> {
        let labels = self.grouping.filter(|g| !g.without).map(|g| g.labels.clone());
        (self.bucketed && self.unwrap.is_none())
            .then(|| model::Summaries { bounds: std::sync::Arc::new(self.bounds.clone()), labels })
    }

    /// Visits the pairs of the series key [`Self::key`] builds (in any order; a name may come
    /// twice, where `key` keeps the first).
    fn each_key_pair<'s>(&'s self, b: &'s LabelsBuilder, mut f: impl FnMut(&'s str, &'s str)) {
        if !b.err.is_empty() {
            return b.each_label(f);
        }
        let unwrapped = self.unwrap_label.as_deref();
        match self.grouping {
            Some(g) if !g.without => {
                for n in &g.labels {
                    if let Some(v) = b.get(n) {
                        f(n, v);
                    }
                }
            }
            Some(g) => b.each_label(|k, v| {
                if unwrapped != Some(k) && !g.labels.iter().any(|x| x == k) {
                    f(k, v)
                }
            }),
            None => b.each_label(|k, v| {
                if unwrapped != Some(k) {
                    f(k, v)
                }
            }),
        }
    }

    /// Puts in `out` the pairs of the series key [`Self::key`] would build, borrowed
    /// (unordered, possibly with a name twice), and gives a hash of them that does not depend
    /// on their order; `None` when there are more than `KEY_PAIRS`.
    pub(super) fn key_pairs<'s>(&'s self, b: &'s LabelsBuilder, out: &mut KeyPairs<'s>) -> Option<u64> {
        out.n = 0;
        let mut over = false;
        self.each_key_pair(b, |k, v| {
            if out.n < KEY_PAIRS {
                out.pairs[out.n] = (k, v);
                out.n += 1;
            } else {
                over = true;
            }
        });
        if over {
            return None;
        }
        let mut h = 0u64;
        for (k, v) in out.as_slice() {
            let mut x = rustc_hash::FxHasher::default();
            x.write(k.as_bytes());
            x.write_u8(0xff);
            x.write(v.as_bytes());
            h = h.wrapping_add(x.finish());
        }
        Some(h)
    }

    /// Whether some step's window `(t-off-range, t-off]` holds `ts`.
    pub(super) fn in_window(&self, ts: i64) -> bool {
        let lo = ts.saturating_add(self.off);
        let idx = self.steps.partition_point(|&t| t < lo);
        idx < self.steps.len() && self.steps[idx].saturating_sub(self.off).saturating_sub(self.range) < ts
    }
}
