//! A push's entries as the write path takes them: each line borrowed from the request body it
//! came in when it can be (a protobuf push's lines are never copied before the WAL and the
//! head copy them), or owned (a JSON push's, the agent's).

use std::borrow::Cow;

use model::{Entry, Labels, Metadata};

/// One entry on its way in.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    pub ts: i64,
    pub line: Cow<'a, str>,
    pub metadata: Metadata,
}

impl Incoming<'_> {
    /// The entry, with its line copied if it is borrowed.
    pub fn to_entry(&self) -> Entry {
        Entry { ts: self.ts, line: self.line.clone().into_owned(), metadata: self.metadata.clone() }
    }
}

impl From<Entry> for Incoming<'static> {
    fn from(e: Entry) -> Self {
        Incoming { ts: e.ts, line: Cow::Owned(e.line), metadata: e.metadata }
    }
}

/// One stream of a push on its way in.
#[derive(Debug, Clone)]
pub struct IncomingStream<'a> {
    pub labels: Labels,
    pub entries: Vec<Incoming<'a>>,
}

impl From<crate::PushStream> for IncomingStream<'static> {
    fn from(s: crate::PushStream) -> Self {
        IncomingStream { labels: s.labels, entries: s.entries.into_iter().map(Incoming::from).collect() }
    }
}
