//! Query limits (Loki's `limits_config` for queries) and the checks on the syntax tree.

use super::EngineError;
use crate::ast::*;
use crate::go;

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_entries_limit_per_query: u32,
    pub max_query_series: usize,
    /// Longest `end - start` in ns; 0 = unlimited.
    pub max_query_length: i64,
    /// Largest `[range]` in ns; 0 = unlimited.
    pub max_query_range: i64,
    /// Most points per series of a range query.
    pub max_points: i64,
    /// Align range queries to the step as Loki's query frontend does.
    pub align_step: bool,
    /// Threads a query reads and filters with (0: one per core).
    pub threads: usize,
}

impl Limits {
    /// The threads a query may use.
    pub fn threads(&self) -> usize {
        if self.threads == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { self.threads }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries_limit_per_query: 5000,
            max_query_series: 500,
            max_query_length: 721 * go::HOUR,
            max_query_range: 0,
            max_points: 11000,
            align_step: true,
            threads: 0,
        }
    }
}

pub(crate) fn series_limit_error(n: usize) -> EngineError {
    EngineError::Limit(format!(
        "maximum number of series ({n}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()"
    ))
}

pub(crate) fn find_approx_topk(e: &Expr) -> Option<()> {
    match e {
        Expr::VectorAgg(v) if v.op == VecOp::ApproxTopk => Some(()),
        Expr::VectorAgg(v) => find_approx_topk(&v.inner),
        Expr::BinOp(b) => find_approx_topk(&b.lhs).or_else(|| find_approx_topk(&b.rhs)),
        Expr::LabelReplace(l) => find_approx_topk(&l.inner),
        _ => None,
    }
}

pub(crate) fn check_range_limit(e: &Expr, max: i64) -> Result<(), EngineError> {
    match e {
        Expr::RangeAgg(r) if r.range.interval > max => Err(EngineError::Limit("[interval] value exceeds limit".into())),
        Expr::VectorAgg(v) => check_range_limit(&v.inner, max),
        Expr::BinOp(b) => {
            check_range_limit(&b.lhs, max)?;
            check_range_limit(&b.rhs, max)
        }
        Expr::LabelReplace(l) => check_range_limit(&l.inner, max),
        _ => Ok(()),
    }
}
