//! Detected fields, as Loki's query frontend finds them: the newest `line_limit` entries of a log
//! query are read; every structured-metadata key is a field with no parser; the labels the
//! query's own parsers made are fields as they are; and each line is parsed again with `json`
//! (its key paths remembered), else with `logfmt`, the labels made being fields of that parser.
//! A field's type is guessed from its values (the last entry read decides, as in Loki), its
//! cardinality is the exact number of distinct values read (Loki estimates it with a
//! HyperLogLog sketch; the sample is bounded by `line_limit`, so exact counts stay cheap).

mod json_path;
mod kind;

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::time::Instant;

use logql::{Engine, Expr, LogEntryOut, LogSource, Pipeline, QueryParams, QueryResult};
use model::{Direction, Entry};
use serde::Serialize;

pub use kind::{FieldType, field_type};

use crate::{Error, Metrics};

/// A detected-fields question (also for the values of one field).
#[derive(Debug, Clone)]
pub struct FieldsRequest {
    /// A log query (selector and pipeline).
    pub query: String,
    /// ns.
    pub start: i64,
    /// ns, exclusive.
    pub end: i64,
    /// Entries sampled, newest first.
    pub line_limit: u32,
    /// Fields (or values) answered at most.
    pub limit: u32,
    pub deadline: Option<Instant>,
}

/// One detected field, serialized as Loki writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectedField {
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub cardinality: u64,
    /// `None` (JSON `null`) for structured metadata.
    pub parsers: Option<Vec<String>>,
    #[serde(rename = "jsonPath", skip_serializing_if = "Option::is_none")]
    pub json_path: Option<Vec<String>>,
}

const ERROR_LABELS: [&str; 3] = ["__error__", "__error_details__", "__preserve_error__"];

fn hash(v: &str) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

#[derive(Default)]
struct Acc {
    distinct: HashSet<u64>,
    kind: Option<FieldType>,
    parsers: Vec<String>,
    json_path: Option<Vec<String>>,
}

/// What re-parsing a line gave.
struct Reparsed {
    labels: BTreeMap<String, BTreeSet<String>>,
    parser: Option<&'static str>,
    paths: std::collections::HashMap<String, Vec<String>>,
}

/// The `json` and `logfmt` stages Loki re-parses lines with.
struct LineParsers {
    json: Pipeline,
    logfmt: Pipeline,
}

impl LineParsers {
    fn new() -> LineParsers {
        let stage = |q: &str| -> Pipeline {
            let e = logql::parse(q).expect("a fixed query parses");
            logql::log_pipeline(&e).expect("a fixed log query compiles").1
        };
        LineParsers { json: stage(r#"{x="y"} | json"#), logfmt: stage(r#"{x="y"} | logfmt"#) }
    }

    /// Loki's `parseEntry`: the query's parsed labels plus those of `json`, else `logfmt`.
    fn reparse(&mut self, e: &LogEntryOut) -> Reparsed {
        let mut labels: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (k, v) in &e.parsed {
            if !ERROR_LABELS.contains(&k.as_str()) {
                labels.entry(k.clone()).or_default().insert(v.clone());
            }
        }
        let entry = Entry { ts: e.ts, line: e.line.clone(), metadata: Default::default() };
        let failed = |o: &Option<LogEntryOut>| o.as_ref().is_none_or(|o| o.labels.get("__error__").is_some());
        let mut parser = "json";
        let mut out = self.json.process(&e.stream, &entry);
        if failed(&out) {
            parser = "logfmt";
            out = self.logfmt.process(&e.stream, &entry);
            if failed(&out) {
                return Reparsed { labels, parser: None, paths: Default::default() };
            }
        }
        for (k, v) in out.map(|o| o.parsed).unwrap_or_default() {
            if !ERROR_LABELS.contains(&k.as_str()) {
                labels.entry(k).or_default().insert(v);
            }
        }
        let paths = if parser == "json" { json_path::json_paths(&e.line) } else { Default::default() };
        Reparsed { labels, parser: Some(parser), paths }
    }
}

/// The sampled entries of `req`, grouped by stream as Loki's categorized answer groups them.
fn sample(src: &dyn LogSource, engine: &Engine, req: &FieldsRequest) -> Result<Vec<LogEntryOut>, Error> {
    match logql::parse(&req.query).map_err(logql::EngineError::from)? {
        Expr::Log(_) => {}
        _ => {
            return Err(Error::BadRequest(format!(
                "detected fields need a log query (a stream selector and an optional pipeline), not a metric query: {}",
                req.query
            )));
        }
    }
    let q = QueryParams {
        query: req.query.clone(),
        start: req.start,
        end: req.end,
        limit: req.line_limit,
        direction: Direction::Backward,
        deadline: req.deadline,
        ..QueryParams::default()
    };
    let QueryResult::Streams(streams) = engine.query(src, &q)?.result else {
        return Err(Error::BadRequest(format!("not a log query: {}", req.query)));
    };
    Ok(logql::categorized_streams(&streams, Direction::Backward).into_iter().flat_map(|s| s.entries).collect())
}

/// The detected fields of `req`, sorted by name.
pub fn detected_fields(
    src: &dyn LogSource,
    engine: &Engine,
    req: &FieldsRequest,
    metrics: &Metrics,
) -> Result<Vec<DetectedField>, Error> {
    let t0 = Instant::now();
    let entries = sample(src, engine, req)?;
    metrics.field_lines.inc_by(entries.len() as u64);
    let mut fields: BTreeMap<String, Acc> = BTreeMap::new();
    let limit = req.limit as usize;
    let mut parsers = LineParsers::new();
    for e in &entries {
        let mut metadata: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (k, v) in &e.metadata {
            metadata.entry(k).or_default().insert(v);
        }
        for (k, vals) in metadata {
            let Some(acc) = field(&mut fields, k, limit) else { continue };
            acc.kind = vals.first().map(|v| field_type(v));
            acc.distinct.extend(vals.iter().map(|v| hash(v)));
        }
        let r = parsers.reparse(e);
        for (k, vals) in &r.labels {
            let Some(acc) = field(&mut fields, k, limit) else { continue };
            if let Some(p) = r.parser {
                if !acc.parsers.iter().any(|x| x == p) {
                    acc.parsers.push(p.to_string());
                }
                if p == "json" {
                    acc.json_path =
                        r.paths.get(k).or_else(|| k.strip_suffix("_extracted").and_then(|s| r.paths.get(s))).cloned();
                }
            }
            acc.kind = vals.first().map(|v| field_type(v));
            acc.distinct.extend(vals.iter().map(|v| hash(v)));
        }
    }
    let out: Vec<DetectedField> = fields
        .into_iter()
        .map(|(label, a)| DetectedField {
            label,
            kind: a.kind.unwrap_or(FieldType::String),
            cardinality: a.distinct.len() as u64,
            parsers: (!a.parsers.is_empty()).then_some(a.parsers),
            json_path: a.json_path,
        })
        .collect();
    metrics.observe("fields", t0.elapsed().as_secs_f64());
    Ok(out)
}

/// The accumulator of field `k`, opened while fewer than `limit` fields are known.
fn field<'a>(fields: &'a mut BTreeMap<String, Acc>, k: &str, limit: usize) -> Option<&'a mut Acc> {
    if !fields.contains_key(k) {
        if fields.len() >= limit {
            return None;
        }
        fields.insert(k.to_string(), Acc::default());
    }
    fields.get_mut(k)
}

/// The byte units after which a parsed value is printed again in humanized form.
const BYTE_UNITS: [&str; 25] = [
    "b", "kib", "kb", "mib", "mb", "gib", "gb", "tib", "tb", "pib", "pb", "eib", "eb", "ki", "k", "mi", "m", "gi", "g",
    "ti", "t", "pi", "p", "ei", "e",
];

/// The distinct values of field `name` in the sample of `req`: structured metadata and parsed
/// values, byte sizes written compactly (`10 MB` → `10MB`) so that they paste into a filter.
pub fn field_values(
    src: &dyn LogSource,
    engine: &Engine,
    req: &FieldsRequest,
    name: &str,
    metrics: &Metrics,
) -> Result<Vec<String>, Error> {
    let t0 = Instant::now();
    let entries = sample(src, engine, req)?;
    metrics.field_lines.inc_by(entries.len() as u64);
    let mut values: BTreeSet<String> = BTreeSet::new();
    let mut parsers = LineParsers::new();
    for e in &entries {
        if values.len() >= req.limit as usize {
            break;
        }
        values.extend(e.metadata.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()));
        let r = parsers.reparse(e);
        for v in r.labels.get(name).into_iter().flatten() {
            let lower = v.to_ascii_lowercase();
            match gotemplate::go::parse_bytes(v) {
                Ok(b) if BYTE_UNITS.iter().any(|u| lower.ends_with(u)) => {
                    values.insert(gotemplate::go::format_bytes(b));
                }
                _ => {
                    values.insert(v.clone());
                }
            }
        }
    }
    metrics.observe("values", t0.elapsed().as_secs_f64());
    Ok(values.into_iter().collect())
}
