//! What Grafana's Logs Drilldown app asks beyond plain queries, computed from stored lines:
//!
//! * [`fields`]: detected fields (Loki's `detected_fields` and `detected_field/{name}/values`):
//!   the structured metadata and the `json`/`logfmt` fields of a sample of a log query's lines,
//!   with their type, distinct count, parsers and JSON path.
//! * [`patterns`]: log patterns (Loki's pattern ingester answer) found with the Drain algorithm
//!   per stream and `detected_level`, counted per step.
//!
//! It reads through the LogQL engine's port ([`logql::LogSource`]) and knows nothing of HTTP,
//! of the store's layout or of tenants: the binary wires a store-backed source and the routes.

pub mod fields;
mod metrics;
pub mod patterns;

pub use metrics::Metrics;

/// Why a Drilldown question has no answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is wrong (HTTP 400); the message names the problem.
    #[error("{0}")]
    BadRequest(String),
    /// The engine's own error, its status kept (`EngineError::status`).
    #[error(transparent)]
    Engine(#[from] logql::EngineError),
}

impl Error {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            Error::BadRequest(_) => 400,
            Error::Engine(e) => e.status(),
        }
    }
}
