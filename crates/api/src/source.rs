//! The store seen as the LogQL engine's source of log streams.

use std::sync::Arc;

use logql::{EngineError, LogSource, SelectRequest, SelectedStream};
use store::{ReadStats, Select, Store};

/// One tenant's view of the store, counting what a query reads.
pub struct StoreSource {
    pub store: Arc<Store>,
    pub tenant: String,
    pub stats: Arc<ReadStats>,
}

impl LogSource for StoreSource {
    fn select(&self, req: &SelectRequest) -> Result<Vec<SelectedStream>, EngineError> {
        let q = Select {
            tenant: self.tenant.clone(),
            matchers: req.matchers.clone(),
            start: req.start,
            end: req.end,
            direction: req.direction,
            required_substrings: req.required_substrings.clone(),
        };
        Ok(self
            .store
            .select(&q, self.stats.clone())
            .into_iter()
            .map(|(labels, reader)| SelectedStream { labels, entries: Box::new(reader) })
            .collect())
    }
}
