//! The data model every other crate speaks: label sets, log entries, label matchers and the
//! translation of Go (RE2) regular expressions into Rust ones.
//!
//! It owns no I/O (but `envexpand::expand`, which reads the environment and `$__file{}`s), no
//! wire format and no query syntax: the store, the LogQL engine and the
//! HTTP API all meet here, and nothing here knows about any of them.

pub mod alert;
pub mod duration;
pub mod envexpand;
pub mod goregex;
mod labels;
mod matcher;
mod metadata;
pub mod secret;

pub use labels::{Labels, LabelsError, parse_prom_labels, quote_go};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use metadata::Metadata;

/// One log line as stored: a nanosecond Unix timestamp, the line, and its structured metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub ts: i64,
    pub line: String,
    pub metadata: Metadata,
}

impl Entry {
    pub fn new(ts: i64, line: impl Into<String>) -> Self {
        Entry { ts, line: line.into(), metadata: Metadata::default() }
    }

    /// An entry carrying `metadata`.
    pub fn with_metadata(ts: i64, line: impl Into<String>, metadata: Vec<(String, String)>) -> Self {
        Entry { ts, line: line.into(), metadata: Metadata::new(metadata) }
    }

    /// Bytes of structured metadata, counted as Loki counts them (names plus values).
    pub fn metadata_bytes(&self) -> usize {
        self.metadata.bytes()
    }
}

/// A test of a line's text that a reader applies while decoding, before any entry is made (a
/// query's line filters, given to the store, which knows no query language); and, when every
/// line it keeps holds some text, a search for that text over many lines at once, so that a
/// reader tests only the lines it occurs in (`|~ "(?i)exception"`).
#[derive(Clone)]
pub struct LinePredicate {
    keep: std::sync::Arc<dyn Fn(&str) -> bool + Send + Sync>,
    search: Option<std::sync::Arc<dyn TextSearch>>,
}

impl std::fmt::Debug for LinePredicate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinePredicate")
    }
}

impl LinePredicate {
    pub fn new(keep: impl Fn(&str) -> bool + Send + Sync + 'static) -> LinePredicate {
        LinePredicate { keep: std::sync::Arc::new(keep), search: None }
    }

    /// This predicate, stating that every line it keeps holds an occurrence of `search`.
    pub fn with_search(mut self, search: std::sync::Arc<dyn TextSearch>) -> LinePredicate {
        self.search = Some(search);
        self
    }

    pub fn keep(&self, line: &str) -> bool {
        (self.keep)(line)
    }

    /// What every kept line holds, if known.
    pub fn search(&self) -> Option<&dyn TextSearch> {
        self.search.as_deref()
    }
}

/// A search for text of a fixed length (a literal, in any case or exactly) over many lines'
/// text laid end to end: an occurrence that runs past its line's end belongs to no line.
pub trait TextSearch: Send + Sync {
    /// Where the first occurrence in `hay` starts.
    fn find(&self, hay: &[u8]) -> Option<usize>;
    /// The length of every occurrence.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl TextSearch for memchr::memmem::Finder<'_> {
    fn find(&self, hay: &[u8]) -> Option<usize> {
        memchr::memmem::Finder::find(self, hay)
    }
    fn len(&self) -> usize {
        self.needle().len()
    }
}

/// What is known of an entry without its line: enough to count entries and bytes. When the
/// read allowed [`Summaries`], one may also stand for several entries of a block lying in one
/// segment (`lines` > 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineStat {
    /// The entry's time; for a summary, its newest entry's.
    pub ts: i64,
    /// Length of the line in bytes (a summary: of all its lines).
    pub bytes: u64,
    /// Shared, as in [`Entry`]. Empty (unread) in a summary.
    pub metadata: Metadata,
    /// How many entries this stands for: 1, or a summary's count.
    pub lines: u32,
}

impl LineStat {
    /// One entry.
    pub fn one(ts: i64, bytes: u64, metadata: Metadata) -> LineStat {
        LineStat { ts, bytes, metadata, lines: 1 }
    }
}

/// Lets a counting read (of entries' counts and bytes only, in segments between `bounds`) answer
/// runs of entries instead of each: entries of a block lying in one segment with one metadata
/// set are one `LineStat`; when the reader's series cannot depend on metadata (`labels`), a
/// block lying whole in one segment is answered from its footer alone, nothing decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summaries {
    /// Sorted boundaries; segment k is `(bounds[k-1], bounds[k]]`. A block is summarized only
    /// when its oldest and newest entries lie in one segment (and inside the read's window).
    pub bounds: std::sync::Arc<Vec<i64>>,
    /// Whole blocks only in streams having every one of these labels: the reader's series then
    /// depends on the stream alone, never on an entry's structured metadata. `None`: metadata
    /// may matter everywhere.
    pub labels: Option<Vec<String>>,
}

impl Summaries {
    /// Whether every entry of a block spanning `[min_ts, max_ts]` falls in one segment.
    pub fn one_segment(&self, min_ts: i64, max_ts: i64) -> bool {
        let seg = |ts: i64| self.bounds.partition_point(|&b| b < ts);
        seg(min_ts) == seg(max_ts)
    }

    /// Whether a stream with these labels may have whole blocks summarized.
    pub fn applies_to(&self, labels: &Labels) -> bool {
        self.labels.as_ref().is_some_and(|l| l.iter().all(|n| labels.get(n).is_some()))
    }
}

/// The order in which entries are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Forward,
    #[default]
    Backward,
}
