//! What a query is and what it gives: parameters, results, errors and statistics.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use model::{Direction, Labels};

use crate::error::ParseError;
use crate::go;
use crate::pipeline::LogEntryOut;

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
            step: go::SEC,
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

/// One step's samples (labels and value) inside a metric evaluation.
pub(crate) type Vector = Vec<(Labels, f64)>;
