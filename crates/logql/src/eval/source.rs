//! The port the engine reads through: what it asks a store for and what it gets back.

use model::{Direction, Entry, Labels, Matcher};

use super::EngineError;

/// What the engine needs from storage.
pub trait LogSource: Send + Sync {
    /// Streams whose stream labels satisfy all `matchers` and that have entries in
    /// [start, end), each with only those entries, sorted in `direction` order.
    fn select(&self, req: &SelectRequest) -> Result<Vec<SelectedStream>, EngineError>;

    /// The same streams without their lines, for range aggregations that only count entries or
    /// bytes and have no pipeline: a store answers from metadata without decompressing lines.
    /// `None` (the default) makes the engine read whole entries through `select`. A source that
    /// answers must count only lines containing every `required_substrings` and kept by
    /// `line_filter`.
    fn select_stats(&self, _req: &SelectRequest) -> Result<Option<Vec<SelectedStats>>, EngineError> {
        Ok(None)
    }

    /// How many streams `select` would return, without reading any entry: it decides how a
    /// query is spread over threads, so a close estimate does. The default selects and counts.
    fn stream_count(&self, req: &SelectRequest) -> Result<usize, EngineError> {
        Ok(self.select(req)?.len())
    }
}

#[derive(Debug, Clone)]
pub struct SelectRequest {
    pub matchers: Vec<Matcher>,
    pub start: i64,
    pub end: i64,
    pub direction: Direction,
    /// Case-sensitive substrings every usable line contains (head `|=` filters).
    pub required_substrings: Vec<String>,
    /// ASCII text every usable line holds in some case of its letters (head `|~ "(?i)text"`
    /// filters): a source may skip what cannot hold it, and need not test lines for it.
    pub required_any_case: Vec<String>,
    /// For `select_stats`: the query's line filters, when they are its whole pipeline (only
    /// lines they keep are counted).
    pub line_filter: Option<model::LinePredicate>,
    /// For `select_stats` without any pipeline: whole blocks the source may answer from their
    /// metadata (one `LineStat` standing for many entries).
    pub summaries: Option<model::Summaries>,
    /// Set for a log query, whose streams are merged in time order (a block of each is open
    /// at once): the most entries it takes from one stream (its limit, when its pipeline
    /// keeps every entry it reads; else `usize::MAX`). The source bounds what it holds of a
    /// block by it and by a share of a memory budget, and reads on when more is needed.
    /// `None`: streams are read apart.
    pub take: Option<usize>,
}

pub struct SelectedStream {
    pub labels: Labels,
    pub entries: Box<dyn Iterator<Item = Entry> + Send>,
}

/// A stream's entries without their lines (timestamps, line lengths, metadata), in any order.
pub struct SelectedStats {
    pub labels: Labels,
    pub entries: Box<dyn Iterator<Item = model::LineStat> + Send>,
}
