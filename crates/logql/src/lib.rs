//! LogQL for Bitácora: lexer, parser, canonical printer, log pipeline and evaluator, with
//! Grafana Loki's semantics and error wording.
//!
//! * [`parse`] turns a query into an [`Expr`]; `Display` prints Loki's canonical form and
//!   [`format_query`] Loki's prettified form. [`ParseError`] prints as Loki does
//!   (`parse error at line 1, col 12: syntax error: unexpected ...`, `parse error : ...`).
//! * [`Engine::query`] evaluates log queries (streams) and metric queries (vector, matrix,
//!   scalar) over any [`LogSource`]; [`MemorySource`] is an in-memory one.
//! * [`log_pipeline`] compiles a log query's pipeline for live tail.
//! * [`run_conformance_script`] runs Loki's `.logqltest` scripts against any source.
//!
//! The language's parts, from the bottom up (a module only uses the ones above it):
//!
//! | module | holds |
//! |---|---|
//! | `go` | Go's and Prometheus' number, duration and byte-size syntax |
//! | `regexes` | Go's regex error wording, label-regex simplification, `$1` expansion |
//! | `error` | [`ParseError`] |
//! | `lexer` | tokens |
//! | `ast` | the syntax tree and its canonical printing |
//! | `arith` | arithmetic and comparison on numbers (constant folding, binary operators) |
//! | `template` | Go's `text/template` for `line_format` and `label_format` |
//! | `pipeline` | labels builder, line filters, label filters, parsers, formatters, compiled pipeline |
//! | `parser` | the parser (it validates `regexp` and `pattern` stages with their pipeline parsers) |
//! | `prettier` | [`format_query`] |
//! | `eval` | the `LogSource` port, the engine and its limits, log and metric queries |
//! | `conformance` | the runner of Loki's `.logqltest` scripts |

mod arith;
mod ast;
mod conformance;
mod error;
mod eval;
mod go;
mod lexer;
mod parser;
mod pipeline;
mod prettier;
mod regexes;
mod template;

pub use ast::Expr;
pub use conformance::{ConformanceFailure, ConformanceReport, ScriptLoader, run_conformance_script};
pub use error::ParseError;
pub use eval::{
    Engine, EngineError, Limits, LogSource, LogStream, MemorySource, QueryOutput, QueryParams, QueryResult, Sample,
    SelectRequest, SelectedStats, SelectedStream, Series, Stats, categorized_streams, log_pipeline,
};
pub use go::format_float;
pub use parser::{MAX_DEPTH, parse, parse_without_validation};
pub use pipeline::{LogEntryOut, Pipeline, logfmt_pairs};
pub use prettier::format_query;

// Used by this crate's tests in `tests/` (templates, patterns, prettifier widths, parser
// recursion, fuzzing of the Go-compatible parsers), which are another crate.
pub use go::{format_go_duration, parse_bytes, parse_go_duration, parse_go_float};
pub use gotemplate::MAX_TEMPLATE_DEPTH;
pub use parser::MAX_RECURSION;
pub use pipeline::parsers::json_scanner::MAX_JSON_DEPTH;
pub use pipeline::parsers::pattern::Pattern;
pub use prettier::format_query_width;
pub use template::{Ctx as TemplateContext, Template};
