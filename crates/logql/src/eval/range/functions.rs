//! The functions of a window's samples: rates (extrapolated like Prometheus), sums, quantiles...

use super::super::vector_agg::{avg, quantile, stdvar};
use crate::ast::RangeOp;

fn extrapolated_rate(s: &[(i64, f64)], range: i64, range_end: i64) -> f64 {
    if s.len() < 2 {
        return 0.0;
    }
    let range_start = range_end - range;
    let mut result = s[s.len() - 1].1 - s[0].1;
    let mut last = 0.0;
    for &(_, v) in s {
        if v < last {
            result += last;
        }
        last = v;
    }
    let mut to_start = (s[0].0 - range_start) as f64 / 1e9;
    let mut to_end = (range_end - s[s.len() - 1].0) as f64 / 1e9;
    let sampled = (s[s.len() - 1].0 - s[0].0) as f64 / 1e9;
    let avg_between = sampled / (s.len() - 1) as f64;
    let threshold = avg_between * 1.1;
    if to_start >= threshold {
        to_start = avg_between / 2.0;
    }
    let mut to_zero = to_start;
    if result > 0.0 && s[0].1 >= 0.0 {
        to_zero = sampled * (s[0].1 / result);
    }
    if to_zero < to_start {
        to_start = to_zero;
    }
    if to_end >= threshold {
        to_end = avg_between / 2.0;
    }
    let extrapolate = sampled + to_start + to_end;
    result *= extrapolate / sampled;
    result / (range as f64 / 1e9)
}

pub(crate) fn range_fn(op: RangeOp, param: Option<f64>, s: &[(i64, f64)], range: i64, end: i64) -> f64 {
    let secs = range as f64 / 1e9;
    match op {
        RangeOp::Count => s.len() as f64,
        RangeOp::Rate => s.iter().map(|x| x.1).sum::<f64>() / secs,
        RangeOp::Bytes | RangeOp::Sum => s.iter().map(|x| x.1).sum(),
        RangeOp::BytesRate => s.iter().map(|x| x.1).sum::<f64>() / secs,
        RangeOp::RateCounter => extrapolated_rate(s, range, end),
        RangeOp::Avg => avg(&s.iter().map(|x| x.1).collect::<Vec<_>>()),
        RangeOp::Min => s.iter().map(|x| x.1).fold(s[0].1, |m, x| if x < m || m.is_nan() { x } else { m }),
        RangeOp::Max => s.iter().map(|x| x.1).fold(s[0].1, |m, x| if x > m || m.is_nan() { x } else { m }),
        RangeOp::Stdvar => stdvar(&s.iter().map(|x| x.1).collect::<Vec<_>>()),
        RangeOp::Stddev => stdvar(&s.iter().map(|x| x.1).collect::<Vec<_>>()).sqrt(),
        RangeOp::Quantile => quantile(param.unwrap_or(0.0), &s.iter().map(|x| x.1).collect::<Vec<_>>()),
        RangeOp::First => s[0].1,
        RangeOp::Last => s[s.len() - 1].1,
        RangeOp::Absent => 1.0,
    }
}
