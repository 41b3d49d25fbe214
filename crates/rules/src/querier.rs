//! Running a rule's expression as a LogQL instant query on any [`logql::LogSource`]: the
//! helper behind [`crate::Querier`] implementations (the binary's over the store, tests' over
//! a `logql::MemorySource`).

use std::time::Instant;

/// Evaluates `query` at `ts_nanos`; a scalar result is one sample without labels, a log
/// query is refused.
pub fn instant_query(
    engine: &logql::Engine,
    source: &dyn logql::LogSource,
    query: &str,
    ts_nanos: i64,
    deadline: Option<Instant>,
) -> Result<Vec<(model::Labels, f64)>, String> {
    let q = logql::QueryParams {
        query: query.to_string(),
        start: ts_nanos,
        end: ts_nanos,
        instant: true,
        deadline,
        ..Default::default()
    };
    match engine.query(source, &q).map_err(|e| e.to_string())?.result {
        logql::QueryResult::Vector(v) => Ok(v.into_iter().map(|s| (s.labels, s.v)).collect()),
        logql::QueryResult::Scalar { v, .. } => Ok(vec![(model::Labels::empty(), v)]),
        logql::QueryResult::Matrix(_) => Err("the query returned a range vector; rules need an instant vector".into()),
        logql::QueryResult::Streams(_) => Err("the query returned log lines; rules need a metric query".into()),
    }
}
