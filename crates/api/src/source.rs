//! The store seen as the LogQL engine's source of log streams.

use std::sync::Arc;

use logql::{EngineError, LogSource, SelectRequest, SelectedStats, SelectedStream};
use store::{ReadStats, Select, Store};

/// One tenant's view of the store, counting what a query reads.
pub struct StoreSource {
    pub store: Arc<Store>,
    pub tenant: String,
    pub stats: Arc<ReadStats>,
}

impl StoreSource {
    fn query(&self, req: &SelectRequest) -> Select {
        Select {
            tenant: self.tenant.clone(),
            matchers: req.matchers.clone(),
            start: req.start,
            end: req.end,
            direction: req.direction,
            required_substrings: req.required_substrings.clone(),
        }
    }
}

impl LogSource for StoreSource {
    fn select_stats(&self, req: &SelectRequest) -> Result<Option<Vec<SelectedStats>>, EngineError> {
        Ok(Some(
            self.store
                .select_stats(&self.query(req), self.stats.clone())
                .into_iter()
                .map(|(labels, reader)| SelectedStats { labels, entries: Box::new(reader) })
                .collect(),
        ))
    }

    fn select(&self, req: &SelectRequest) -> Result<Vec<SelectedStream>, EngineError> {
        let q = self.query(req);
        Ok(self
            .store
            .select(&q, self.stats.clone())
            .into_iter()
            .map(|(labels, reader)| SelectedStream { labels, entries: Box::new(reader) })
            .collect())
    }
}
