//! Optional processing stages, in the spirit of Promtail's pipeline: extract fields from JSON,
//! logfmt or a regex into labels or structured metadata, take the timestamp from the line, or
//! drop lines.

use std::collections::BTreeMap;

use model::{Entry, Labels};
use regex::Regex;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StageConfig {
    /// `expressions`: extracted name → dotted key path in the JSON line (empty: the same name).
    Json {
        #[serde(default)]
        expressions: BTreeMap<String, String>,
        #[serde(default)]
        labels: Vec<String>,
        #[serde(default)]
        structured_metadata: Vec<String>,
    },
    /// `expressions`: extracted name → logfmt key (empty: the same name).
    Logfmt {
        #[serde(default)]
        expressions: BTreeMap<String, String>,
        #[serde(default)]
        labels: Vec<String>,
        #[serde(default)]
        structured_metadata: Vec<String>,
    },
    /// Named capture groups become extracted fields.
    Regex {
        expression: String,
        #[serde(default)]
        labels: Vec<String>,
        #[serde(default)]
        structured_metadata: Vec<String>,
    },
    /// The entry's time from an extracted field: RFC3339 (with any fraction), Unix, UnixMs,
    /// UnixUs or UnixNs.
    Timestamp { source: String, format: String },
    /// Drops the entry when `expression` matches the line (or the extracted `source`).
    Drop {
        #[serde(default)]
        source: Option<String>,
        expression: String,
    },
}

#[derive(Debug)]
enum Kind {
    Json(Vec<(String, Vec<String>)>),
    Logfmt(Vec<(String, String)>),
    Regex(Regex),
    Timestamp(String, String),
    Drop(Option<String>, Regex),
}

#[derive(Debug)]
pub struct Stage {
    kind: Kind,
    labels: Vec<String>,
    metadata: Vec<String>,
}

pub fn compile(cfgs: &[StageConfig]) -> Result<Vec<Stage>, String> {
    let re = |r: &str| model::goregex::compile(r).map_err(|e| format!("pipeline_stages: bad regex {r:?}: {e}"));
    cfgs.iter()
        .map(|c| {
            Ok(match c {
                StageConfig::Json { expressions, labels, structured_metadata } => Stage {
                    kind: Kind::Json(
                        expressions
                            .iter()
                            .map(|(k, p)| (k.clone(), if p.is_empty() { vec![k.clone()] } else { p.split('.').map(String::from).collect() }))
                            .collect(),
                    ),
                    labels: labels.clone(),
                    metadata: structured_metadata.clone(),
                },
                StageConfig::Logfmt { expressions, labels, structured_metadata } => Stage {
                    kind: Kind::Logfmt(expressions.iter().map(|(k, p)| (k.clone(), if p.is_empty() { k.clone() } else { p.clone() })).collect()),
                    labels: labels.clone(),
                    metadata: structured_metadata.clone(),
                },
                StageConfig::Regex { expression, labels, structured_metadata } => {
                    Stage { kind: Kind::Regex(re(expression)?), labels: labels.clone(), metadata: structured_metadata.clone() }
                }
                StageConfig::Timestamp { source, format } => {
                    if !["RFC3339", "RFC3339Nano", "Unix", "UnixMs", "UnixUs", "UnixNs"].contains(&format.as_str()) {
                        return Err(format!("pipeline_stages: timestamp format {format:?} is not one of RFC3339, Unix, UnixMs, UnixUs, UnixNs"));
                    }
                    Stage { kind: Kind::Timestamp(source.clone(), format.clone()), labels: vec![], metadata: vec![] }
                }
                StageConfig::Drop { source, expression } => {
                    Stage { kind: Kind::Drop(source.clone(), re(expression)?), labels: vec![], metadata: vec![] }
                }
            })
        })
        .collect()
}

/// Runs the stages; `None` when the entry is dropped.
pub fn apply(stages: &[Stage], labels: &Labels, mut e: Entry) -> Option<(Labels, Entry)> {
    if stages.is_empty() {
        return Some((labels.clone(), e));
    }
    let mut labels = labels.clone();
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for s in stages {
        match &s.kind {
            Kind::Json(exprs) => {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&e.line) {
                    for (name, path) in exprs {
                        let mut cur = &v;
                        for p in path {
                            cur = &cur[p.as_str()];
                        }
                        match cur {
                            serde_json::Value::Null => {}
                            serde_json::Value::String(s) => {
                                fields.insert(name.clone(), s.clone());
                            }
                            other => {
                                fields.insert(name.clone(), other.to_string());
                            }
                        }
                    }
                }
            }
            Kind::Logfmt(exprs) => {
                let pairs = logql::logfmt_pairs(&e.line);
                for (name, key) in exprs {
                    if let Some((_, v)) = pairs.iter().find(|(k, _)| k == key) {
                        fields.insert(name.clone(), v.clone());
                    }
                }
            }
            Kind::Regex(r) => {
                if let Some(c) = r.captures(&e.line) {
                    for name in r.capture_names().flatten() {
                        if let Some(m) = c.name(name) {
                            fields.insert(name.to_string(), m.as_str().to_string());
                        }
                    }
                }
            }
            Kind::Timestamp(source, format) => {
                if let Some(v) = fields.get(source) {
                    let ts = match format.as_str() {
                        "Unix" => v.parse::<f64>().ok().map(|f| (f * 1e9) as i64),
                        "UnixMs" => v.parse::<i64>().ok().map(|n| n * 1_000_000),
                        "UnixUs" => v.parse::<i64>().ok().map(|n| n * 1000),
                        "UnixNs" => v.parse::<i64>().ok(),
                        _ => v.parse::<jiff::Timestamp>().ok().map(|t| t.as_nanosecond() as i64),
                    };
                    if let Some(ts) = ts {
                        e.ts = ts;
                    }
                }
            }
            Kind::Drop(source, r) => {
                let text = match source {
                    Some(s) => fields.get(s).map(String::as_str).unwrap_or(""),
                    None => e.line.as_str(),
                };
                if r.is_match(text) {
                    return None;
                }
            }
        }
        for l in &s.labels {
            if let Some(v) = fields.get(l) {
                labels.set(l, v);
            }
        }
        for m in &s.metadata {
            if let Some(v) = fields.get(m) {
                e.metadata.make_mut().push((m.clone(), v.clone()));
            }
        }
    }
    Some((labels, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_label_metadata_time_and_drop() {
        let cfg: Vec<StageConfig> = serde_json::from_value(serde_json::json!([
            {"json": {"expressions": {"level": "", "user": "ctx.user", "t": "time"}, "labels": ["level"], "structured_metadata": ["user"]}},
            {"timestamp": {"source": "t", "format": "RFC3339"}},
            {"drop": {"expression": "healthz"}}
        ]))
        .unwrap();
        let stages = compile(&cfg).unwrap();
        let base = Labels::from_pairs([("app", "a")]).unwrap();
        let e = Entry::new(1, r#"{"level":"warn","ctx":{"user":"u7"},"time":"2026-01-01T00:00:00Z","msg":"x"}"#);
        let (l, e) = apply(&stages, &base, e).unwrap();
        assert_eq!(l.to_string(), r#"{app="a", level="warn"}"#);
        assert_eq!(e.metadata, vec![("user".to_string(), "u7".to_string())]);
        assert_eq!(e.ts, 1_767_225_600_000_000_000);
        assert!(apply(&stages, &base, Entry::new(1, "GET /healthz 200")).is_none());
        let lf = compile(&[StageConfig::Logfmt {
            expressions: [("lvl".to_string(), "level".to_string())].into(),
            labels: vec!["lvl".into()],
            structured_metadata: vec![],
        }])
        .unwrap();
        let (l, _) = apply(&lf, &base, Entry::new(1, r#"ts=1 level=error msg="a b""#)).unwrap();
        assert_eq!(l.get("lvl"), Some("error"));
        let (l, _) = apply(&lf, &base, Entry::new(1, r#"msg="café \"ok\"" level="avería grave""#)).unwrap();
        assert_eq!(l.get("lvl"), Some("avería grave"), "quoted UTF-8 values are decoded whole");
        let rx = compile(&[StageConfig::Regex {
            expression: r"status=(?P<status>\d+)".into(),
            labels: vec![],
            structured_metadata: vec!["status".into()],
        }])
        .unwrap();
        let (_, e) = apply(&rx, &base, Entry::new(1, "done status=503")).unwrap();
        assert_eq!(e.metadata, vec![("status".to_string(), "503".to_string())]);
    }
}
