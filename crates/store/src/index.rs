//! A tenant's streams and its inverted label index: label name → value → stream ids.

use std::collections::HashMap;

use model::{Labels, Matcher};
use roaring::RoaringBitmap;

use crate::head::Head;

pub struct StreamState {
    pub labels: Labels,
    pub head: Head,
    /// Newest timestamp ever accepted, for the out-of-order window.
    pub max_ts: i64,
    /// When the stream last received an entry in this process (None: only on disk).
    pub last_push: Option<std::time::Instant>,
}

#[derive(Default)]
pub struct Tenant {
    pub streams: Vec<StreamState>,
    by_labels: HashMap<Labels, u32>,
    postings: HashMap<String, HashMap<String, RoaringBitmap>>,
}

impl Tenant {
    pub fn get(&self, labels: &Labels) -> Option<u32> {
        self.by_labels.get(labels).copied()
    }

    /// The stream id of a label set, created if new.
    pub fn get_or_create(&mut self, labels: &Labels) -> (u32, bool) {
        if let Some(&id) = self.by_labels.get(labels) {
            return (id, false);
        }
        let id = self.streams.len() as u32;
        for (k, v) in labels.iter() {
            self.postings.entry(k.to_string()).or_default().entry(v.to_string()).or_default().insert(id);
        }
        self.by_labels.insert(labels.clone(), id);
        self.streams.push(StreamState {
            labels: labels.clone(),
            head: Head::default(),
            max_ts: i64::MIN,
            last_push: None,
        });
        (id, true)
    }

    pub fn all(&self) -> RoaringBitmap {
        let mut b = RoaringBitmap::new();
        b.insert_range(0..self.streams.len() as u32);
        b
    }

    /// The streams whose labels satisfy every matcher (a missing label counts as "").
    pub fn matching(&self, matchers: &[Matcher]) -> RoaringBitmap {
        let mut out = self.all();
        for m in matchers {
            let values = self.postings.get(&m.name);
            if m.matches_empty() {
                // Streams without the label match; remove those whose value does not.
                if let Some(values) = values {
                    for (v, ids) in values {
                        if !m.matches(v) {
                            out -= ids;
                        }
                    }
                }
            } else {
                let mut ok = RoaringBitmap::new();
                if let Some(values) = values {
                    if m.op == model::MatchOp::Eq {
                        if let Some(ids) = values.get(&m.value) {
                            ok |= ids;
                        }
                    } else {
                        for (v, ids) in values {
                            if m.matches(v) {
                                ok |= ids;
                            }
                        }
                    }
                }
                out &= ok;
            }
            if out.is_empty() {
                break;
            }
        }
        out
    }

    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Streams that received an entry within `idle` (Loki's active streams: those its
    /// ingesters hold in memory).
    pub fn active_count(&self, idle: std::time::Duration) -> usize {
        self.streams.iter().filter(|s| s.last_push.is_some_and(|t| t.elapsed() < idle)).count()
    }
}
