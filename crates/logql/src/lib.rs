//! LogQL for Bitácora: lexer, parser, canonical printer, log pipeline and evaluator, with
//! Grafana Loki's semantics and error wording.
//!
//! * [`parse`] turns a query into an [`Expr`]; `Display` prints Loki's canonical form and
//!   [`format_query`] Loki's prettified form. [`ParseError`] prints as Loki does
//!   (`parse error at line 1, col 12: syntax error: unexpected ...`, `parse error : ...`).
//! * [`Engine::query`] evaluates log queries (streams) and metric queries (vector, matrix,
//!   scalar) over any [`LogSource`]; [`MemorySource`] is an in-memory one.
//! * [`log_pipeline`] compiles a log query's pipeline for live tail.
//! * [`conformance::run_script`] runs Loki's `.logqltest` scripts against any source.

pub mod ast;
pub mod conformance;
pub mod eval;
#[path = "pipeline/ip.rs"]
pub mod ip;
#[path = "pipeline/parsers/json_scanner.rs"]
pub mod json;
pub mod lexer;
#[path = "eval/memory.rs"]
pub mod memory;
pub mod parser;
#[path = "pipeline/parsers/pattern.rs"]
pub mod pattern;
pub mod pipeline;
pub mod prettier;
pub mod template;
#[path = "go/durations.rs"]
pub mod units;

pub use ast::Expr;
pub use eval::{
    Engine, EngineError, Limits, LogSource, LogStream, QueryOutput, QueryParams, QueryResult, Sample, SelectRequest,
    SelectedStats, SelectedStream, Series, Stats, categorized_streams, log_pipeline,
};
pub use memory::MemorySource;
pub use parser::{MAX_DEPTH, ParseError, parse, parse_without_validation, validate_matchers};
pub use pipeline::{LogEntryOut, Pipeline, logfmt_pairs};
pub use prettier::format_query;

/// Parses a query that must be a plain stream selector and returns its matchers
/// (for `/series`, `/labels?query=`); `validate` applies the non-empty-matcher rule.
pub fn parse_matchers(query: &str, validate: bool) -> Result<Vec<model::Matcher>, ParseError> {
    let e = if validate { parse(query)? } else { parse_without_validation(query)? };
    match e.selector_matchers() {
        Some(m) => Ok(m.to_vec()),
        None => Err(ParseError::new("only label matchers are supported")),
    }
}
