//! The query engine: the `LogSource` port it reads from (`source`, with an in-memory adapter in
//! `memory`), queries' parameters and results (`query`), the engine and its limits (`engine`,
//! `limits`, per-query state in `context`), log queries
//! (`log_query`), range aggregations (`range`: plan, accumulate per thread, merge), vector
//! aggregations (`vector_agg`), binary operators (`binop`) and the metric walk (`metric`).

mod binop;
mod context;
mod engine;
mod limits;
mod log_query;
mod memory;
mod metric;
mod query;
mod range;
mod source;
mod vector_agg;

pub use engine::Engine;
pub use limits::Limits;
pub use log_query::{categorized_streams, log_pipeline};
pub use memory::MemorySource;
pub use query::{EngineError, LogStream, QueryOutput, QueryParams, QueryResult, Sample, Series, Stats};
pub use source::{LogSource, SelectRequest, SelectedStats, SelectedStream};
