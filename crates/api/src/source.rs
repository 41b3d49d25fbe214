//! The store seen as the LogQL engine's source of log streams, with deleted lines hidden: each
//! selected stream that a delete request touches reads through that request's filter.

use std::collections::HashMap;
use std::sync::Arc;

use logql::{EngineError, LogSource, SelectRequest, SelectedStats, SelectedStream};
use model::LineStat;
use store::{ReadStats, Select, Store};

/// One tenant's view of the store, counting what a query reads.
pub struct StoreSource {
    pub store: Arc<Store>,
    pub tenant: String,
    pub stats: Arc<ReadStats>,
    /// Delete requests: their lines never leave this source.
    pub deletes: Arc<deletes::Deletes>,
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
            required_any_case: req.required_any_case.clone(),
            line_filter: req.line_filter.clone(),
            summaries: req.summaries.clone(),
            take: req.take,
        }
    }
}

impl LogSource for StoreSource {
    fn stream_count(&self, req: &SelectRequest) -> Result<usize, EngineError> {
        // From the label index alone: no block or head entry is touched.
        Ok(self.store.series(&self.tenant, &req.matchers, req.start, req.end).len())
    }

    fn select_stats(&self, req: &SelectRequest) -> Result<Option<Vec<SelectedStats>>, EngineError> {
        let q = self.query(req);
        let counted = self.store.select_stats(&q, self.stats.clone());
        // Streams a delete request touches are read whole (lines are needed to test them);
        // the others keep the fast path.
        let mut filters: HashMap<model::Labels, deletes::EntryFilter> = HashMap::new();
        for (labels, _) in &counted {
            if let Some(f) = self.deletes.filter(&self.tenant, labels, req.start, req.end) {
                filters.insert(labels.clone(), f);
            }
        }
        let mut full: HashMap<model::Labels, store::StreamReader> = HashMap::new();
        if !filters.is_empty() {
            full = self
                .store
                .select(&q, self.stats.clone())
                .into_iter()
                .filter(|(l, _)| filters.contains_key(l))
                .collect();
        }
        // A stream may come in parts (read apart on several cores): one read of it whole
        // stands for all of them.
        let deleted: std::collections::HashSet<model::Labels> = filters.keys().cloned().collect();
        Ok(Some(
            counted
                .into_iter()
                .map(|(labels, reader)| {
                    let entries: Box<dyn Iterator<Item = LineStat> + Send> =
                        match (filters.remove(&labels), full.remove(&labels)) {
                            (Some(mut f), Some(r)) => {
                                let lf = req.line_filter.clone();
                                Box::new(
                                    r.filter(move |e| !f.deletes(e) && lf.as_ref().is_none_or(|p| p.keep(&e.line)))
                                        .map(|e| LineStat::one(e.ts, e.line.len() as u64, e.metadata)),
                                )
                            }
                            (None, _) if deleted.contains(&labels) => Box::new(std::iter::empty()),
                            _ => Box::new(reader),
                        };
                    SelectedStats { labels, entries }
                })
                .collect(),
        ))
    }

    fn select(&self, req: &SelectRequest) -> Result<Vec<SelectedStream>, EngineError> {
        let q = self.query(req);
        Ok(self
            .store
            .select(&q, self.stats.clone())
            .into_iter()
            .map(|(labels, reader)| {
                let entries: Box<dyn Iterator<Item = model::Entry> + Send> =
                    match self.deletes.filter(&self.tenant, &labels, req.start, req.end) {
                        Some(mut f) => Box::new(reader.filter(move |e| !f.deletes(e))),
                        None => Box::new(reader),
                    };
                SelectedStream { labels, entries }
            })
            .collect())
    }
}
