//! The engine: `Engine::query` checks the limits, computes the steps and dispatches to log or
//! metric evaluation.

use std::collections::BTreeMap;
use std::time::Instant;

use model::Labels;

use super::LogSource;
use super::context::Ctx;
use super::limits::{Limits, check_range_limit, find_approx_topk, series_limit_error};
use super::log_query::eval_log;
use super::metric::{Value, eval_metric};
use super::query::{EngineError, QueryOutput, QueryParams, QueryResult, Sample, Series, Stats};
use crate::ast::*;
use crate::go;
use crate::parser::parse;

#[derive(Debug, Clone, Default)]
pub struct Engine {
    pub limits: Limits,
}

impl Engine {
    pub fn new(limits: Limits) -> Self {
        Engine { limits }
    }

    pub fn query(&self, src: &dyn LogSource, q: &QueryParams) -> Result<QueryOutput, EngineError> {
        let started = Instant::now();
        let expr = parse(&q.query)?;
        let mut ctx = Ctx {
            src,
            cancel: q.cancel.clone(),
            deadline: q.deadline,
            stats: Stats::default(),
            counter: 0,
            threads: self.limits.threads(),
        };
        if self.limits.max_query_length > 0 && q.end.saturating_sub(q.start) > self.limits.max_query_length {
            return Err(EngineError::Limit(format!(
                "the query time range exceeds the limit (query length: {}, limit: {})",
                go::format_go_duration(q.end.saturating_sub(q.start)),
                go::format_prom_duration(self.limits.max_query_length)
            )));
        }
        if self.limits.max_query_range > 0 {
            check_range_limit(&expr, self.limits.max_query_range)?;
        }
        let result = if let Expr::Log(l) = &expr {
            if q.instant {
                return Err(EngineError::BadRequest(
                    "log queries are not supported as an instant query type, please change your query to a range query type".into(),
                ));
            }
            if q.interval < 0 {
                return Err(EngineError::BadRequest("interval must be >= 0".into()));
            }
            if q.limit > self.limits.max_entries_limit_per_query {
                return Err(EngineError::Limit(format!(
                    "max entries limit per query exceeded, limit > max_entries_limit_per_query ({} > {})",
                    q.limit, self.limits.max_entries_limit_per_query
                )));
            }
            QueryResult::Streams(eval_log(&mut ctx, l, q)?)
        } else {
            let steps: Vec<i64> = if q.instant {
                vec![q.start]
            } else {
                if q.step <= 0 {
                    return Err(EngineError::BadRequest(
                        "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
                    ));
                }
                let (mut s, mut e) = (q.start, q.end);
                if self.limits.align_step {
                    let step_ms = (q.step / go::MS).max(1);
                    let sm = s.div_euclid(go::MS);
                    let em = e.div_euclid(go::MS) + if e.rem_euclid(go::MS) > 0 { 1 } else { 0 };
                    s = sm.div_euclid(step_ms).saturating_mul(step_ms).saturating_mul(go::MS);
                    e = em.saturating_add((step_ms - em.rem_euclid(step_ms)) % step_ms).saturating_mul(go::MS);
                }
                if e.saturating_sub(s) / q.step > self.limits.max_points {
                    return Err(EngineError::Limit(
                        "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter".into(),
                    ));
                }
                let mut v = Vec::new();
                let mut t = s;
                while t <= e {
                    v.push(t);
                    match t.checked_add(q.step) {
                        Some(n) => t = n,
                        None => break,
                    }
                }
                v
            };
            if steps.is_empty() {
                return Ok(QueryOutput { result: QueryResult::Matrix(vec![]), stats: ctx.stats });
            }
            if !q.instant && find_approx_topk(&expr).is_some() {
                return Err(EngineError::BadRequest("approx_topk is only supported on instant queries".into()));
            }
            let v = eval_metric(&mut ctx, &expr, &steps)?;
            match v {
                Value::Scalar(x) => {
                    if q.instant {
                        QueryResult::Scalar { t: steps[0], v: x }
                    } else {
                        QueryResult::Matrix(vec![Series {
                            labels: Labels::empty(),
                            points: steps.iter().map(|t| (*t, x)).collect(),
                        }])
                    }
                }
                Value::Steps(st) => {
                    if q.instant {
                        let mut vec: Vec<Sample> = st
                            .into_iter()
                            .next()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(l, v)| Sample { labels: l, t: steps[0], v })
                            .collect();
                        if vec.len() > self.limits.max_query_series {
                            return Err(series_limit_error(self.limits.max_query_series));
                        }
                        if !expr.has_sort() {
                            vec.sort_by(|a, b| a.labels.cmp(&b.labels));
                        }
                        QueryResult::Vector(vec)
                    } else {
                        let mut map: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
                        for (i, s) in st.into_iter().enumerate() {
                            for (l, v) in s {
                                map.entry(l).or_default().push((steps[i], v));
                            }
                        }
                        if map.len() > self.limits.max_query_series {
                            return Err(series_limit_error(self.limits.max_query_series));
                        }
                        QueryResult::Matrix(map.into_iter().map(|(labels, points)| Series { labels, points }).collect())
                    }
                }
            }
        };
        ctx.stats.exec_time_secs = started.elapsed().as_secs_f64();
        if let QueryResult::Streams(s) = &result {
            ctx.stats.total_entries_returned = s.iter().map(|x| x.entries.len() as u64).sum();
        }
        Ok(QueryOutput { result, stats: ctx.stats })
    }
}
