//! An in-memory `LogSource` for tests and the conformance runner.

use std::sync::{Arc, RwLock};

use model::{Direction, Entry, Labels};

use crate::eval::{EngineError, LogSource, SelectRequest, SelectedStream};

#[derive(Debug, Default)]
pub struct MemorySource {
    streams: RwLock<Vec<(Labels, Arc<Vec<Entry>>)>>,
}

impl MemorySource {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a source from streams (entries in any order; same label sets merge).
    pub fn from_streams(streams: Vec<(Labels, Vec<Entry>)>) -> Self {
        let s = MemorySource::new();
        for (l, e) in streams {
            s.push(l, e);
        }
        s
    }

    pub fn push(&self, labels: Labels, entries: Vec<Entry>) {
        let mut g = self.streams.write().unwrap();
        match g.iter_mut().find(|(l, _)| *l == labels) {
            Some((_, v)) => {
                let v = Arc::make_mut(v);
                v.extend(entries);
                v.sort_by_key(|e| e.ts);
            }
            None => {
                let mut v = entries;
                v.sort_by_key(|e| e.ts);
                g.push((labels, Arc::new(v)));
            }
        }
    }

    pub fn clear(&self) {
        self.streams.write().unwrap().clear();
    }
}

impl LogSource for MemorySource {
    fn select(&self, req: &SelectRequest) -> Result<Vec<SelectedStream>, EngineError> {
        let g = self.streams.read().unwrap();
        let mut out = Vec::new();
        for (labels, entries) in g.iter() {
            if !req.matchers.iter().all(|m| m.matches(labels.get(&m.name).unwrap_or(""))) {
                continue;
            }
            let lo = entries.partition_point(|e| e.ts < req.start);
            let hi = entries.partition_point(|e| e.ts < req.end);
            if lo >= hi {
                continue;
            }
            let entries = Arc::clone(entries);
            let subs = req.required_substrings.clone();
            let keep = move |e: &Entry| subs.iter().all(|s| e.line.contains(s.as_str()));
            let it: Box<dyn Iterator<Item = Entry> + Send> = if req.direction == Direction::Backward {
                Box::new((lo..hi).rev().map(move |i| entries[i].clone()).filter(keep))
            } else {
                Box::new((lo..hi).map(move |i| entries[i].clone()).filter(keep))
            };
            out.push(SelectedStream { labels: labels.clone(), entries: it });
        }
        Ok(out)
    }

    fn select_stats(&self, req: &SelectRequest) -> Result<Option<Vec<crate::eval::SelectedStats>>, EngineError> {
        let streams = self.select(req)?;
        Ok(Some(
            streams
                .into_iter()
                .map(|s| {
                    let filter = req.line_filter.clone();
                    (s, filter)
                })
                .map(|(s, filter)| crate::eval::SelectedStats {
                    labels: s.labels,
                    entries: Box::new(
                        s.entries
                            .filter(move |e| filter.as_ref().is_none_or(|f| f.keep(&e.line)))
                            .map(|e| model::LineStat::one(e.ts, e.line.len() as u64, e.metadata)),
                    ),
                })
                .collect(),
        ))
    }
}
