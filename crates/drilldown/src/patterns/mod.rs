//! Log patterns of the streams a selector picks, as Loki's pattern ingester answers them: one
//! Drain tree per stream and `detected_level` (a stream's format guessed from its first line in
//! the window), each pattern counted per `step` bucket (timestamps truncated to the step, at
//! least 10 s), the same pattern and level of several streams summed.
//!
//! Computed on demand from the stored lines of [start, end): one pass, lines in time order per
//! stream, memory bounded by the cluster caps (per tree and per answer) and by the buckets.

pub mod drain;
pub mod tokenize;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use logql::{Expr, LogSource, SelectRequest};
use model::Direction;

use crate::{Error, Metrics};
use drain::{Drain, DrainConfig, Trained};
use tokenize::{Format, Skip};

/// Loki's smallest pattern step (its sample resolution), ns.
pub const MIN_STEP: i64 = 10_000_000_000;

/// The levels Loki keeps apart; any other `detected_level` counts as `unknown`.
const LEVELS: [&str; 8] = ["unknown", "debug", "info", "warn", "error", "fatal", "critical", "trace"];

/// Bounds of one answer.
#[derive(Debug, Clone)]
pub struct PatternLimits {
    pub drain: DrainConfig,
    /// Clusters over all trees of one answer.
    pub max_total_clusters: usize,
}

impl Default for PatternLimits {
    fn default() -> Self {
        PatternLimits { drain: DrainConfig::default(), max_total_clusters: 20_000 }
    }
}

/// A patterns question.
#[derive(Debug, Clone)]
pub struct PatternsRequest {
    /// A stream selector.
    pub query: String,
    /// ns, inclusive.
    pub start: i64,
    /// ns, exclusive.
    pub end: i64,
    /// ns; raised to [`MIN_STEP`].
    pub step: i64,
    pub deadline: Option<Instant>,
}

/// One pattern of the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternSeries {
    pub pattern: String,
    pub level: String,
    /// (bucket start in Unix seconds, lines), ascending, buckets without lines left out.
    pub samples: Vec<(i64, u64)>,
}

impl PatternSeries {
    pub fn total(&self) -> u64 {
        self.samples.iter().map(|s| s.1).sum()
    }
}

/// The trees of one stream and level, with the buckets of each cluster.
struct Tree {
    drain: Drain,
    /// Per cluster: (bucket start ns, lines), appended in time order.
    samples: Vec<Vec<(i64, u64)>>,
}

/// Finds the patterns of `req`, most frequent first.
pub fn patterns(
    src: &dyn LogSource,
    req: &PatternsRequest,
    limits: &PatternLimits,
    metrics: &Metrics,
) -> Result<Vec<PatternSeries>, Error> {
    let t0 = Instant::now();
    let matchers = match logql::parse(&req.query).map_err(logql::EngineError::from)? {
        Expr::Log(l) if l.stages.is_empty() => l.matchers,
        _ => return Err(Error::BadRequest(format!("only label matchers is supported: {}", req.query))),
    };
    let step = req.step.max(MIN_STEP);
    let streams = src.select(&SelectRequest {
        matchers,
        start: req.start,
        end: req.end,
        direction: Direction::Forward,
        required_substrings: Vec::new(),
        required_any_case: Vec::new(),
        line_filter: None,
        summaries: None,
        take: None,
    })?;
    let mut out: BTreeMap<(String, String), BTreeMap<i64, u64>> = BTreeMap::new();
    let mut total_clusters = 0usize;
    let (mut lines, mut too_long, mut no_message, mut too_few, mut too_many, mut full) = (0u64, 0, 0, 0, 0, 0);
    for stream in streams {
        let mut format: Option<Format> = None;
        let mut trees: HashMap<&'static str, Tree> = HashMap::new();
        for e in stream.entries {
            lines += 1;
            if lines.is_multiple_of(4096)
                && let Some(d) = req.deadline
                && Instant::now() > d
            {
                return Err(logql::EngineError::Timeout.into());
            }
            let fmt = *format.get_or_insert_with(|| tokenize::detect_format(&e.line));
            let level = level_of(&e.metadata);
            let tokens = match tokenize::tokenize(fmt, &e.line) {
                Ok(t) => t,
                Err(Skip::TooLong) => {
                    too_long += 1;
                    continue;
                }
                Err(Skip::NoMessage) => {
                    no_message += 1;
                    continue;
                }
            };
            let tree =
                trees.entry(level).or_insert_with(|| Tree { drain: Drain::new(limits.drain.clone()), samples: vec![] });
            let may_open = total_clusters < limits.max_total_clusters;
            match tree.drain.train(&tokens, may_open) {
                Trained::Cluster(id) => {
                    if id == tree.samples.len() {
                        total_clusters += 1;
                        metrics.pattern_clusters.inc();
                        tree.samples.push(Vec::new());
                    }
                    let bucket = e.ts - e.ts.rem_euclid(step);
                    let s = &mut tree.samples[id];
                    match s.last_mut() {
                        Some((b, n)) if *b == bucket => *n += 1,
                        _ => s.push((bucket, 1)),
                    }
                }
                Trained::TooFewTokens => too_few += 1,
                Trained::TooManyTokens => too_many += 1,
                Trained::Full => full += 1,
            }
        }
        let Some(fmt) = format else { continue };
        for (level, tree) in trees {
            for (c, samples) in tree.drain.clusters().iter().zip(&tree.samples) {
                let text = tokenize::join(fmt, &c.tokens, &c.spaces);
                if text.is_empty() {
                    continue;
                }
                let acc = out.entry((level.to_string(), text)).or_default();
                for (b, n) in samples {
                    *acc.entry(*b).or_default() += n;
                }
            }
        }
    }
    metrics.pattern_lines.inc_by(lines);
    metrics.skipped("line_too_long", too_long);
    metrics.skipped("no_message_field", no_message);
    metrics.skipped("too_few_tokens", too_few);
    metrics.skipped("too_many_tokens", too_many);
    metrics.skipped("clusters_full", full);
    let mut series: Vec<PatternSeries> = out
        .into_iter()
        .map(|((level, pattern), buckets)| PatternSeries {
            pattern,
            level,
            samples: buckets.into_iter().map(|(b, n)| (b.div_euclid(1_000_000_000), n)).collect(),
        })
        .collect();
    series.sort_by(|a, b| b.total().cmp(&a.total()).then_with(|| a.pattern.cmp(&b.pattern)));
    let secs = t0.elapsed().as_secs_f64();
    metrics.observe("patterns", secs);
    tracing::debug!(query = %req.query, lines, patterns = series.len(), secs, "patterns");
    Ok(series)
}

/// The entry's `detected_level`, lowercased, `unknown` when absent or not one of Loki's levels.
fn level_of(md: &[(String, String)]) -> &'static str {
    let Some((_, v)) = md.iter().find(|(k, _)| k == "detected_level") else { return LEVELS[0] };
    LEVELS.iter().find(|l| l.eq_ignore_ascii_case(v)).copied().unwrap_or(LEVELS[0])
}
