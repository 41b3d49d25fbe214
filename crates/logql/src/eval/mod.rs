//! The query engine: log queries (streams) and metric queries (vectors, matrices, scalars).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtOrd};
use std::time::Instant;

use model::{Direction, Entry, Labels, Matcher};

use crate::ast::*;
use crate::parser::{ParseError, parse};
use crate::pipeline::{self, ERR_SAMPLE_EXTRACTION, ERROR_LABEL, LogEntryOut, Pipeline, sorted_labels};
use crate::units;

// ------------------------------------------------------------------------------ interface

/// What the engine needs from storage.
pub trait LogSource: Send + Sync {
    /// Streams whose stream labels satisfy all `matchers` and that have entries in
    /// [start, end), each with only those entries, sorted in `direction` order.
    fn select(&self, req: &SelectRequest) -> Result<Vec<SelectedStream>, EngineError>;

    /// The same streams without their lines, for range aggregations that only count entries or
    /// bytes and have no pipeline: a store answers from metadata without decompressing lines.
    /// `None` (the default) makes the engine read whole entries through `select`.
    fn select_stats(&self, _req: &SelectRequest) -> Result<Option<Vec<SelectedStats>>, EngineError> {
        Ok(None)
    }
}

#[derive(Debug, Clone)]
pub struct SelectRequest {
    pub matchers: Vec<Matcher>,
    pub start: i64,
    pub end: i64,
    pub direction: Direction,
    /// Case-sensitive substrings every usable line contains (head `|=` filters).
    pub required_substrings: Vec<String>,
}

pub struct SelectedStream {
    pub labels: Labels,
    pub entries: Box<dyn Iterator<Item = Entry> + Send>,
}

/// A stream's entries without their lines (timestamps, line lengths, metadata), in any order.
pub struct SelectedStats {
    pub labels: Labels,
    pub entries: Box<dyn Iterator<Item = model::LineStat> + Send>,
}

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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries_limit_per_query: 5000,
            max_query_series: 500,
            max_query_length: 721 * units::HOUR,
            max_query_range: 0,
            max_points: 11000,
            align_step: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct QueryParams {
    pub query: String,
    /// ns; for instant queries the evaluation time.
    pub start: i64,
    /// ns, exclusive for log queries.
    pub end: i64,
    /// ns.
    pub step: i64,
    /// ns; log queries only.
    pub interval: i64,
    pub limit: u32,
    pub direction: Direction,
    pub instant: bool,
    pub cancel: Option<Arc<AtomicBool>>,
    /// Wall-clock deadline; exceeding it gives `EngineError::Timeout`.
    pub deadline: Option<Instant>,
}

impl Default for QueryParams {
    fn default() -> Self {
        QueryParams {
            query: String::new(),
            start: 0,
            end: 0,
            step: units::SEC,
            interval: 0,
            limit: 100,
            direction: Direction::Backward,
            instant: false,
            cancel: None,
            deadline: None,
        }
    }
}

impl QueryParams {
    /// An instant (metric) query at `t` (ns).
    pub fn instant(query: impl Into<String>, t: i64) -> Self {
        QueryParams { query: query.into(), start: t, end: t, instant: true, ..QueryParams::default() }
    }

    /// A range query over [start, end) with a step (all ns).
    pub fn range(query: impl Into<String>, start: i64, end: i64, step: i64) -> Self {
        QueryParams { query: query.into(), start, end, step, ..QueryParams::default() }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// Limit errors, Loki wording (HTTP 400).
    #[error("{0}")]
    Limit(String),
    /// Other client errors (HTTP 400): unsupported query types, pipeline errors, bad parameters.
    #[error("{0}")]
    BadRequest(String),
    #[error("context canceled")]
    Cancelled,
    #[error("context deadline exceeded")]
    Timeout,
    #[error("{0}")]
    Internal(String),
}

impl EngineError {
    pub fn is_client_error(&self) -> bool {
        matches!(self, EngineError::Parse(_) | EngineError::Limit(_) | EngineError::BadRequest(_))
    }
    /// Suggested HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            EngineError::Cancelled => 499,
            EngineError::Timeout => 504,
            EngineError::Internal(_) => 500,
            _ => 400,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub total_lines_processed: u64,
    pub total_bytes_processed: u64,
    pub total_structured_metadata_bytes_processed: u64,
    pub total_entries_returned: u64,
    pub total_post_filter_lines: u64,
    pub exec_time_secs: f64,
}

/// A log stream of the result: entries sharing one output label set.
#[derive(Debug, Clone, PartialEq)]
pub struct LogStream {
    /// The full output label set (stream + metadata + parsed).
    pub labels: Labels,
    pub entries: Vec<LogEntryOut>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    /// (timestamp ns, value), ascending.
    pub points: Vec<(i64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub t: i64,
    pub v: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    Streams(Vec<LogStream>),
    Matrix(Vec<Series>),
    Vector(Vec<Sample>),
    Scalar { t: i64, v: f64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueryOutput {
    pub result: QueryResult,
    pub stats: Stats,
}

#[derive(Debug, Clone, Default)]
pub struct Engine {
    pub limits: Limits,
}

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

// ------------------------------------------------------------------------------ helpers

struct Ctx<'a> {
    src: &'a dyn LogSource,
    cancel: Option<Arc<AtomicBool>>,
    deadline: Option<Instant>,
    stats: Stats,
    counter: u32,
}

/// Cancellation and time-out, checked from any thread.
fn check(cancel: Option<&Arc<AtomicBool>>, deadline: Option<Instant>) -> Result<(), EngineError> {
    if cancel.is_some_and(|c| c.load(AtOrd::Relaxed)) {
        return Err(EngineError::Cancelled);
    }
    if deadline.is_some_and(|d| Instant::now() > d) {
        return Err(EngineError::Timeout);
    }
    Ok(())
}

impl Ctx<'_> {
    fn check(&mut self) -> Result<(), EngineError> {
        self.counter = self.counter.wrapping_add(1);
        if !self.counter.is_multiple_of(1024) {
            return Ok(());
        }
        self.check_now()
    }
    fn check_now(&self) -> Result<(), EngineError> {
        if let Some(c) = &self.cancel
            && c.load(AtOrd::Relaxed)
        {
            return Err(EngineError::Cancelled);
        }
        if let Some(d) = self.deadline
            && Instant::now() > d
        {
            return Err(EngineError::Timeout);
        }
        Ok(())
    }
    fn account(&mut self, e: &Entry) {
        self.stats.total_lines_processed += 1;
        self.stats.total_bytes_processed += (e.line.len() + e.metadata_bytes()) as u64;
        self.stats.total_structured_metadata_bytes_processed += e.metadata_bytes() as u64;
    }
}

fn pipeline_error(labels: &Labels) -> EngineError {
    let err = labels.get(ERROR_LABEL).unwrap_or("");
    EngineError::BadRequest(format!(
        "pipeline error: '{err}' for series: '{labels}'.\nUse a label filter to intentionally skip this error. (e.g | __error__!=\"{err}\").\nTo skip all potential errors you can match empty errors.(e.g __error__=\"\")\nThe label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n"
    ))
}

fn series_limit_error(n: usize) -> EngineError {
    EngineError::Limit(format!(
        "maximum number of series ({n}) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum(), count() or topk()"
    ))
}

/// Folds `a op b` for two literals (comparisons give 1/0, division by zero NaN).
pub fn fold_literals(op: BinOp, a: f64, b: f64) -> f64 {
    arith(op, a, b).unwrap_or_else(|| if cmp(op, a, b) { 1.0 } else { 0.0 })
}

fn arith(op: BinOp, a: f64, b: f64) -> Option<f64> {
    Some(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => {
            if b == 0.0 {
                f64::NAN
            } else {
                a / b
            }
        }
        BinOp::Mod => {
            if b == 0.0 {
                f64::NAN
            } else {
                a % b
            }
        }
        BinOp::Pow => a.powf(b),
        _ => return None,
    })
}

fn cmp(op: BinOp, a: f64, b: f64) -> bool {
    match op {
        BinOp::CmpEq => a == b,
        BinOp::Neq => a != b,
        BinOp::Gt => a > b,
        BinOp::Gte => a >= b,
        BinOp::Lt => a < b,
        BinOp::Lte => a <= b,
        _ => false,
    }
}

// ------------------------------------------------------------------------------ engine

impl Engine {
    pub fn new(limits: Limits) -> Self {
        Engine { limits }
    }

    pub fn query(&self, src: &dyn LogSource, q: &QueryParams) -> Result<QueryOutput, EngineError> {
        let started = Instant::now();
        let expr = parse(&q.query)?;
        let mut ctx = Ctx { src, cancel: q.cancel.clone(), deadline: q.deadline, stats: Stats::default(), counter: 0 };
        if self.limits.max_query_length > 0 && q.end.saturating_sub(q.start) > self.limits.max_query_length {
            return Err(EngineError::Limit(format!(
                "the query time range exceeds the limit (query length: {}, limit: {})",
                units::format_go_duration(q.end.saturating_sub(q.start)),
                units::format_prom_duration(self.limits.max_query_length)
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
                    let step_ms = (q.step / units::MS).max(1);
                    let sm = s.div_euclid(units::MS);
                    let em = e.div_euclid(units::MS) + if e.rem_euclid(units::MS) > 0 { 1 } else { 0 };
                    s = sm.div_euclid(step_ms).saturating_mul(step_ms).saturating_mul(units::MS);
                    e = em.saturating_add((step_ms - em.rem_euclid(step_ms)) % step_ms).saturating_mul(units::MS);
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

fn find_approx_topk(e: &Expr) -> Option<()> {
    match e {
        Expr::VectorAgg(v) if v.op == VecOp::ApproxTopk => Some(()),
        Expr::VectorAgg(v) => find_approx_topk(&v.inner),
        Expr::BinOp(b) => find_approx_topk(&b.lhs).or_else(|| find_approx_topk(&b.rhs)),
        Expr::LabelReplace(l) => find_approx_topk(&l.inner),
        _ => None,
    }
}

fn check_range_limit(e: &Expr, max: i64) -> Result<(), EngineError> {
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

// ------------------------------------------------------------------------------ log queries

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

fn eval_log(ctx: &mut Ctx, l: &LogExpr, q: &QueryParams) -> Result<Vec<LogStream>, EngineError> {
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

// ------------------------------------------------------------------------------ metric queries

type Vector = Vec<(Labels, f64)>;

enum Value {
    Scalar(f64),
    /// One vector per evaluation step.
    Steps(Vec<Vector>),
}

fn eval_metric(ctx: &mut Ctx, e: &Expr, steps: &[i64]) -> Result<Value, EngineError> {
    match e {
        Expr::Literal(v) => Ok(Value::Scalar(*v)),
        Expr::Vector(v) => Ok(Value::Steps(steps.iter().map(|_| vec![(Labels::empty(), *v)]).collect())),
        Expr::Log(_) => Err(EngineError::BadRequest("unexpected log query in metric expression".into())),
        Expr::RangeAgg(r) => eval_range_agg(ctx, r, steps, None).map(Value::Steps),
        Expr::VectorAgg(v) => {
            // Loki pushes a `sum` grouping down into count/rate/bytes/sum range aggregations.
            if v.op == VecOp::Sum
                && let Expr::RangeAgg(r) = v.inner.as_ref()
                && r.grouping.is_none()
                && matches!(r.op, RangeOp::Bytes | RangeOp::BytesRate | RangeOp::Sum | RangeOp::Rate | RangeOp::Count)
            {
                let inner = eval_range_agg(ctx, r, steps, Some(&v.grouping))?;
                return Ok(Value::Steps(inner.into_iter().map(|vec| vector_agg(v, vec)).collect()));
            }
            let inner = match eval_metric(ctx, &v.inner, steps)? {
                Value::Scalar(x) => steps.iter().map(|_| vec![(Labels::empty(), x)]).collect(),
                Value::Steps(s) => s,
            };
            Ok(Value::Steps(inner.into_iter().map(|vec| vector_agg(v, vec)).collect()))
        }
        Expr::LabelReplace(lr) => {
            let re = model::goregex::compile(&format!("^(?:{})$", lr.regex))
                .map_err(|e| EngineError::BadRequest(format!("invalid regex in label_replace: {e}")))?;
            let inner = match eval_metric(ctx, &lr.inner, steps)? {
                Value::Scalar(x) => steps.iter().map(|_| vec![(Labels::empty(), x)]).collect(),
                Value::Steps(s) => s,
            };
            Ok(Value::Steps(
                inner
                    .into_iter()
                    .map(|vec| vec.into_iter().map(|(l, v)| (label_replace(l, lr, &re), v)).collect())
                    .collect(),
            ))
        }
        Expr::BinOp(b) => {
            let l = eval_metric(ctx, &b.lhs, steps)?;
            let r = eval_metric(ctx, &b.rhs, steps)?;
            match (l, r) {
                (Value::Scalar(a), Value::Scalar(c)) => Ok(Value::Scalar(fold_literals(b.op, a, c))),
                (Value::Steps(v), Value::Scalar(x)) => Ok(Value::Steps(
                    v.into_iter().map(|vec| literal_binop(b.op, b.opts.return_bool, vec, x, false)).collect(),
                )),
                (Value::Scalar(x), Value::Steps(v)) => Ok(Value::Steps(
                    v.into_iter().map(|vec| literal_binop(b.op, b.opts.return_bool, vec, x, true)).collect(),
                )),
                (Value::Steps(lv), Value::Steps(rv)) => {
                    let mut out = Vec::with_capacity(lv.len());
                    for (a, c) in lv.into_iter().zip(rv) {
                        out.push(vector_binop(b, a, c)?);
                    }
                    Ok(Value::Steps(out))
                }
            }
        }
    }
}

fn label_replace(l: Labels, lr: &LabelReplace, re: &regex::Regex) -> Labels {
    let src = l.get(&lr.src).unwrap_or("");
    let Some(caps) = re.captures(src) else { return l };
    let val = crate::template::expand_go(&lr.replacement, &caps);
    let mut v = l.into_vec();
    v.retain(|(k, _)| *k != lr.dst);
    if !val.is_empty() {
        v.push((lr.dst.clone(), val));
    }
    sorted_labels(v)
}

fn literal_binop(op: BinOp, return_bool: bool, vec: Vector, lit: f64, lit_left: bool) -> Vector {
    let mut out = Vec::with_capacity(vec.len());
    for (l, v) in vec {
        let (a, b) = if lit_left { (lit, v) } else { (v, lit) };
        if op.is_comparison() {
            let t = cmp(op, a, b);
            if return_bool {
                out.push((l, if t { 1.0 } else { 0.0 }));
            } else if t {
                out.push((l, v));
            }
        } else if let Some(r) = arith(op, a, b) {
            out.push((l, r));
        }
    }
    out
}

fn signature(l: &Labels, o: &BinOpOptions) -> Labels {
    match &o.matching {
        _ if o.on => {
            let keep = o.matching.clone().unwrap_or_default();
            Labels::from_sorted(
                l.iter()
                    .filter(|(k, _)| keep.iter().any(|x| x == k))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        }
        Some(m) => Labels::from_sorted(
            l.iter().filter(|(k, _)| !m.iter().any(|x| x == k)).map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ),
        None => l.clone(),
    }
}

fn result_metric(lhs: &Labels, rhs: &Labels, o: &BinOpOptions) -> Labels {
    let mut v: Vec<(String, String)> = lhs.as_slice().to_vec();
    if o.card == Card::OneToOne {
        if o.on {
            let keep = o.matching.clone().unwrap_or_default();
            v.retain(|(k, _)| keep.contains(k));
        } else if let Some(m) = &o.matching {
            v.retain(|(k, _)| !m.contains(k));
        }
    }
    if let Some(inc) = &o.include {
        for ln in inc {
            v.retain(|(k, _)| k != ln);
            if let Some(val) = rhs.get(ln)
                && !val.is_empty()
            {
                v.push((ln.clone(), val.to_string()));
            }
        }
    }
    sorted_labels(v)
}

fn vector_binop(b: &BinOpExpr, lhs: Vector, rhs: Vector) -> Result<Vector, EngineError> {
    let o = &b.opts;
    let lsig: Vec<Labels> = lhs.iter().map(|(l, _)| signature(l, o)).collect();
    let rsig: Vec<Labels> = rhs.iter().map(|(l, _)| signature(l, o)).collect();
    match b.op {
        BinOp::And => {
            if lhs.is_empty() || rhs.is_empty() {
                return Ok(vec![]);
            }
            return Ok(lhs.into_iter().zip(lsig).filter(|(_, s)| rsig.contains(s)).map(|(x, _)| x).collect());
        }
        BinOp::Or => {
            if lhs.is_empty() {
                return Ok(rhs);
            }
            if rhs.is_empty() {
                return Ok(lhs);
            }
            let mut out = lhs;
            for (x, s) in rhs.into_iter().zip(rsig) {
                if !lsig.contains(&s) {
                    out.push(x);
                }
            }
            return Ok(out);
        }
        BinOp::Unless => {
            if lhs.is_empty() || rhs.is_empty() {
                return Ok(lhs);
            }
            return Ok(lhs.into_iter().zip(lsig).filter(|(_, s)| !rsig.contains(s)).map(|(x, _)| x).collect());
        }
        _ => {}
    }
    let (lhs, rhs, lsig, rsig, swapped) =
        if o.card == Card::OneToMany { (rhs, lhs, rsig, lsig, true) } else { (lhs, rhs, lsig, rsig, false) };
    let mut right: HashMap<&Labels, usize> = HashMap::new();
    for (i, s) in rsig.iter().enumerate() {
        if right.insert(s, i).is_some() {
            let side = if o.card == Card::OneToMany { "left" } else { "right" };
            return Err(EngineError::BadRequest(format!(
                "found duplicate series on the {side} hand-side;many-to-many matching not allowed: matching labels must be unique on one side"
            )));
        }
    }
    let mut matched: HashMap<&Labels, Vec<Labels>> = HashMap::new();
    let mut out = Vec::new();
    for (i, (ll, lv)) in lhs.iter().enumerate() {
        let sig = &lsig[i];
        let Some(&ri) = right.get(sig) else { continue };
        let (rl, rv) = &rhs[ri];
        let metric = result_metric(ll, rl, o);
        if o.card == Card::OneToOne {
            if matched.contains_key(sig) {
                return Err(EngineError::BadRequest(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                        .into(),
                ));
            }
            matched.insert(sig, vec![]);
        } else {
            let e = matched.entry(sig).or_default();
            if e.contains(&metric) {
                return Err(EngineError::BadRequest(
                    "multiple matches for labels: grouping labels must ensure unique matches".into(),
                ));
            }
            e.push(metric.clone());
        }
        let (a, c) = if swapped { (*rv, *lv) } else { (*lv, *rv) };
        if b.op.is_comparison() {
            let t = cmp(b.op, a, c);
            if o.return_bool {
                out.push((metric, if t { 1.0 } else { 0.0 }));
            } else if t {
                out.push((metric, a));
            }
        } else if let Some(r) = arith(b.op, a, c) {
            out.push((metric, r));
        }
    }
    Ok(out)
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

fn vector_agg(v: &VectorAgg, vec: Vector) -> Vector {
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
                groups.entry(group_labels(&l, &v.grouping)).or_default().push((l, x));
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
        groups.entry(group_labels(&l, &v.grouping)).or_default().push(x);
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

fn avg(xs: &[f64]) -> f64 {
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

fn stdvar(xs: &[f64]) -> f64 {
    let (mut aux, mut count, mut mean) = (0.0, 0.0, 0.0);
    for &v in xs {
        count += 1.0;
        let delta = v - mean;
        mean += delta / count;
        aux += delta * (v - mean);
    }
    aux / count
}

fn quantile(q: f64, xs: &[f64]) -> f64 {
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

fn range_fn(op: RangeOp, param: Option<f64>, s: &[(i64, f64)], range: i64, end: i64) -> f64 {
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

fn eval_range_agg(
    ctx: &mut Ctx,
    r: &RangeAgg,
    steps: &[i64],
    pushed: Option<&Grouping>,
) -> Result<Vec<Vector>, EngineError> {
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
    let mut pipe = Pipeline::new(&r.range.log.stages)?.with_hints(hints);
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
    // The series a sample belongs to: errors keep every label; otherwise grouping applies and
    // the unwrapped label goes away (unless a `by` keeps it).
    let key = |b: &pipeline::LabelsBuilder| -> Labels {
        if !b.err.is_empty() {
            return sorted_labels(b.unsorted());
        }
        match grouping {
            Some(g) if !g.without => b.grouped(&g.labels, false),
            Some(g) => {
                let mut w = g.labels.clone();
                w.extend(unwrap_label.clone());
                b.grouped(&w, true)
            }
            None => match &unwrap_label {
                Some(u) => b.grouped(std::slice::from_ref(u), true),
                None => sorted_labels(b.unsorted()),
            },
        }
    };
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut series: Vec<(Labels, Vec<(i64, f64)>)> = Vec::new();
    fn slot(labels: Labels, index: &mut HashMap<Labels, usize>, series: &mut Vec<(Labels, Vec<(i64, f64)>)>) -> usize {
        if let Some(&i) = index.get(&labels) {
            return i;
        }
        series.push((labels.clone(), Vec::new()));
        index.insert(labels, series.len() - 1);
        series.len() - 1
    }
    let in_window = |ts: i64| -> bool {
        // is there a step t with t-off-range < ts <= t-off ?
        let lo = ts.saturating_add(off);
        let idx = steps.partition_point(|&t| t < lo);
        idx < steps.len() && steps[idx].saturating_sub(off).saturating_sub(range) < ts
    };
    // count/bytes aggregations don't keep samples: they are summed into the segments between
    // window boundaries, so memory stays proportional to series x steps.
    let bucketed = r.range.unwrap.is_none()
        && matches!(r.op, RangeOp::Count | RangeOp::Rate | RangeOp::Bytes | RangeOp::BytesRate);
    let bounds: Vec<i64> = if bucketed {
        let mut b: Vec<i64> =
            steps.iter().flat_map(|t| [t.saturating_sub(off).saturating_sub(range), t.saturating_sub(off)]).collect();
        b.sort_unstable();
        b.dedup();
        b
    } else {
        Vec::new()
    };
    let mut buckets: Vec<Vec<(u32, f64)>> = Vec::new();
    // Counting without a pipeline: entries' lines are never needed, only their times, lengths
    // and metadata (which are sample labels).
    let fast = if bucketed && r.range.log.stages.is_empty() { ctx.src.select_stats(&req)? } else { None };
    let used_fast = fast.is_some();
    if let Some(streams) = fast {
        for s in streams {
            for st in s.entries {
                ctx.check()?;
                if st.ts < req.start || st.ts >= req.end || !in_window(st.ts) {
                    continue;
                }
                let md: u64 = st.metadata.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum();
                ctx.stats.total_lines_processed += 1;
                ctx.stats.total_bytes_processed += st.bytes + md;
                ctx.stats.total_structured_metadata_bytes_processed += md;
                let value = match r.op {
                    RangeOp::Bytes | RangeOp::BytesRate => st.bytes as f64,
                    _ => 1.0,
                };
                let e = Entry { ts: st.ts, line: String::new(), metadata: st.metadata };
                if pipe.run(&s.labels, &e).is_none() {
                    continue;
                }
                let idx = slot(key(pipe.builder()), &mut index, &mut series);
                if buckets.len() <= idx {
                    buckets.resize_with(idx + 1, Vec::new);
                }
                let bk = &mut buckets[idx];
                if bk.is_empty() {
                    bk.resize(bounds.len() + 1, (0, 0.0));
                }
                let k = bounds.partition_point(|&b| b < st.ts);
                bk[k].0 += 1;
                bk[k].1 += value;
            }
        }
    }
    let streams = if used_fast { Vec::new() } else { ctx.src.select(&req)? };
    // Streams are independent until their samples meet in a series: each core takes a share of
    // them (decompressing their blocks and running the pipeline) with its own accumulators,
    // merged afterwards.
    #[derive(Default)]
    struct Acc {
        index: HashMap<Labels, usize>,
        series: Vec<(Labels, Vec<(i64, f64)>)>,
        buckets: Vec<Vec<(u32, f64)>>,
        stats: Stats,
    }
    let (cancel, deadline) = (ctx.cancel.clone(), ctx.deadline);
    let work = |streams: Vec<SelectedStream>, mut pipe: Pipeline| -> Result<Acc, EngineError> {
        let mut acc = Acc::default();
        let mut counter = 0u32;
        for s in streams {
            // series slot of entries whose labels the pipeline left untouched
            let mut base_slot: Option<usize> = None;
            for e in s.entries {
                counter = counter.wrapping_add(1);
                if counter.is_multiple_of(1024) {
                    check(cancel.as_ref(), deadline)?;
                }
                if e.ts < req.start || e.ts >= req.end {
                    continue;
                }
                let md = e.metadata_bytes() as u64;
                acc.stats.total_lines_processed += 1;
                acc.stats.total_bytes_processed += e.line.len() as u64 + md;
                acc.stats.total_structured_metadata_bytes_processed += md;
                let Some(line) = pipe.run(&s.labels, &e) else { continue };
                let value = match &unwrap {
                    None => match r.op {
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
                            None => units::parse_go_float(sv),
                            Some(Conv::Bytes) => units::parse_bytes(sv).map(|x| x as f64),
                            Some(Conv::Duration) | Some(Conv::DurationSeconds) => {
                                units::parse_go_duration(sv).map(|d| d as f64 / 1e9)
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
                            let i = slot(key(b), &mut acc.index, &mut acc.series);
                            base_slot = Some(i);
                            i
                        }
                    }
                } else {
                    slot(key(b), &mut acc.index, &mut acc.series)
                };
                if bucketed {
                    if !in_window(e.ts) {
                        continue;
                    }
                    if acc.buckets.len() <= idx {
                        acc.buckets.resize_with(idx + 1, Vec::new);
                    }
                    let bk = &mut acc.buckets[idx];
                    if bk.is_empty() {
                        bk.resize(bounds.len() + 1, (0, 0.0));
                    }
                    let k = bounds.partition_point(|&b| b < e.ts);
                    bk[k].0 += 1;
                    bk[k].1 += value;
                } else {
                    acc.series[idx].1.push((e.ts, value));
                }
            }
        }
        Ok(acc)
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(streams.len()).max(1);
    let parts: Vec<Acc> = if cores <= 1 {
        vec![work(streams, pipe.clone())?]
    } else {
        let mut shares: Vec<Vec<SelectedStream>> = (0..cores).map(|_| Vec::new()).collect();
        for (i, s) in streams.into_iter().enumerate() {
            shares[i % cores].push(s);
        }
        let results: Vec<Result<Acc, EngineError>> = std::thread::scope(|sc| {
            let handles: Vec<_> = shares
                .into_iter()
                .map(|share| {
                    let p = pipe.clone();
                    let work = &work;
                    sc.spawn(move || work(share, p))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(EngineError::Internal("query worker panicked".into()))))
                .collect()
        });
        results.into_iter().collect::<Result<Vec<_>, _>>()?
    };
    for part in parts {
        ctx.stats.total_lines_processed += part.stats.total_lines_processed;
        ctx.stats.total_bytes_processed += part.stats.total_bytes_processed;
        ctx.stats.total_structured_metadata_bytes_processed += part.stats.total_structured_metadata_bytes_processed;
        for (i, (l, pts)) in part.series.into_iter().enumerate() {
            let idx = slot(l, &mut index, &mut series);
            series[idx].1.extend(pts);
            if let Some(bk) = part.buckets.get(i).filter(|b| !b.is_empty()) {
                if buckets.len() <= idx {
                    buckets.resize_with(idx + 1, Vec::new);
                }
                let dst = &mut buckets[idx];
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
    ctx.check_now()?;
    if bucketed {
        buckets.resize_with(series.len(), Vec::new);
        let mut prefixes: Vec<(Labels, Vec<(u64, f64)>)> = Vec::new();
        for ((l, _), bk) in series.into_iter().zip(buckets) {
            if bk.is_empty() {
                continue;
            }
            if l.get(ERROR_LABEL).is_some() {
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
        let mut out = Vec::with_capacity(steps.len());
        for &t in steps {
            let lo = bounds.partition_point(|&b| b < t.saturating_sub(off).saturating_sub(range));
            let hi = bounds.partition_point(|&b| b < t.saturating_sub(off));
            let mut vec = Vec::new();
            for (l, p) in &prefixes {
                let (c, v) = (p[hi + 1].0 - p[lo + 1].0, p[hi + 1].1 - p[lo + 1].1);
                if c == 0 {
                    continue;
                }
                let x = match r.op {
                    RangeOp::Count => c as f64,
                    RangeOp::Rate => c as f64 / secs,
                    RangeOp::Bytes => v,
                    _ => v / secs,
                };
                vec.push((l.clone(), x));
            }
            out.push(vec);
        }
        ctx.check_now()?;
        return Ok(out);
    }
    // sort samples; detect errors that fall in a window
    let mut grouped: Vec<(Labels, Vec<(i64, f64)>)> = Vec::with_capacity(series.len());
    for (l, mut pts) in series {
        if l.get(ERROR_LABEL).is_some() && pts.iter().any(|p| in_window(p.0)) {
            return Err(pipeline_error(&l));
        }
        if !pts.is_sorted_by_key(|p| p.0) {
            pts.sort_by_key(|p| p.0);
        }
        grouped.push((l, pts));
    }
    let mut out = Vec::with_capacity(steps.len());
    for &t in steps {
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
    ctx.check_now()?;
    Ok(out)
}

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
