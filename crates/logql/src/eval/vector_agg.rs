//! Vector aggregations: `sum`, `avg`, `min`, `max`, `count`, `stddev`, `stdvar`, `topk`,
//! `bottomk`, `sort`, `sort_desc`, `approx_topk`, grouped `by`/`without`.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use model::Labels;

use super::query::Vector;
use crate::ast::*;

/// Each series' group labels, made once for all the steps: a series keeps its shared label
/// set from step to step, and building its group's set again at every step copied a
/// megabyte-long label (from `label_format`) a thousand times. An entry holds the series'
/// set, so its address stays its own while the cache lives.
#[derive(Default)]
pub(crate) struct Groups(std::collections::HashMap<usize, (Labels, Labels)>);

impl Groups {
    /// Forgets the series of earlier steps once they outnumber a step's twice: an inner
    /// expression that builds new sets at every step (a binary operation) would otherwise have
    /// every step's sets kept here.
    fn trim(&mut self, series: usize) {
        if self.0.len() > 2 * series + 64 {
            self.0.clear();
        }
    }

    fn of(&mut self, l: &Labels, g: &Grouping) -> Labels {
        self.0.entry(l.shared_id()).or_insert_with(|| (l.clone(), group_labels(l, g))).1.clone()
    }
}

fn group_labels(l: &Labels, g: &Grouping) -> Labels {
    if g.without {
        Labels::from_sorted(
            l.iter()
                .filter(|(k, _)| !g.labels.iter().any(|x| x == k))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    } else {
        Labels::from_sorted(
            l.iter()
                .filter(|(k, _)| g.labels.iter().any(|x| x == k))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

pub(crate) fn vector_agg(v: &VectorAgg, vec: Vector, cache: &mut Groups) -> Vector {
    cache.trim(vec.len());
    match v.op {
        VecOp::Sort | VecOp::SortDesc => {
            let mut vec = vec;
            vec.sort_by(|a, b| {
                let o = a.1.partial_cmp(&b.1).unwrap_or_else(|| {
                    if a.1.is_nan() && !b.1.is_nan() {
                        Ordering::Greater
                    } else if !a.1.is_nan() && b.1.is_nan() {
                        Ordering::Less
                    } else {
                        Ordering::Equal
                    }
                });
                if v.op == VecOp::SortDesc { if a.1.is_nan() || b.1.is_nan() { o } else { o.reverse() } } else { o }
            });
            return vec;
        }
        VecOp::Topk | VecOp::Bottomk | VecOp::ApproxTopk => {
            let k = v.param.unwrap_or(1) as usize;
            let mut groups: BTreeMap<Labels, Vec<(Labels, f64)>> = BTreeMap::new();
            for (l, x) in vec {
                groups.entry(cache.of(&l, &v.grouping)).or_default().push((l, x));
            }
            let mut out = Vec::new();
            for (_, mut g) in groups {
                let top = v.op != VecOp::Bottomk;
                g.sort_by(|a, b| {
                    let o = if top { b.1.partial_cmp(&a.1) } else { a.1.partial_cmp(&b.1) };
                    o.unwrap_or_else(|| if a.1.is_nan() { Ordering::Greater } else { Ordering::Less })
                });
                g.truncate(k);
                out.extend(g);
            }
            return out;
        }
        _ => {}
    }
    let mut groups: BTreeMap<Labels, Vec<f64>> = BTreeMap::new();
    for (l, x) in vec {
        groups.entry(cache.of(&l, &v.grouping)).or_default().push(x);
    }
    groups
        .into_iter()
        .map(|(l, xs)| {
            let r = match v.op {
                VecOp::Sum => xs.iter().sum(),
                VecOp::Avg => avg(&xs),
                VecOp::Count => xs.len() as f64,
                VecOp::Max => xs.iter().copied().fold(xs[0], |m, x| if x > m || m.is_nan() { x } else { m }),
                VecOp::Min => xs.iter().copied().fold(xs[0], |m, x| if x < m || m.is_nan() { x } else { m }),
                VecOp::Stdvar => stdvar(&xs),
                VecOp::Stddev => stdvar(&xs).sqrt(),
                _ => 0.0,
            };
            (l, r)
        })
        .collect()
}

pub(crate) fn avg(xs: &[f64]) -> f64 {
    let mut mean: f64 = 0.0;
    let mut count = 0.0;
    for &v in xs {
        count += 1.0;
        if mean.is_infinite() {
            if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
                continue;
            }
            if !v.is_infinite() && !v.is_nan() {
                continue;
            }
        }
        mean += v / count - mean / count;
    }
    mean
}

pub(crate) fn stdvar(xs: &[f64]) -> f64 {
    let (mut aux, mut count, mut mean) = (0.0, 0.0, 0.0);
    for &v in xs {
        count += 1.0;
        let delta = v - mean;
        mean += delta / count;
        aux += delta * (v - mean);
    }
    aux / count
}

pub(crate) fn quantile(q: f64, xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
    let n = v.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let w = rank - rank.floor();
    v[lower as usize] * (1.0 - w) + v[upper as usize] * w
}
