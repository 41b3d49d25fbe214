//! The rule file model: Prometheus/Loki rule files (`groups:` of alerting and recording
//! rules) and their YAML reading and writing.

use std::collections::BTreeMap;

use model::duration::PromDuration;
use serde::{Deserialize, Serialize};

/// A namespace file: `groups:`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    #[serde(default)]
    pub groups: Vec<RuleGroup>,
}

/// A rule group: rules evaluated in order, on one interval.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleGroup {
    pub name: String,
    /// Evaluation interval; none: the ruler's `evaluation_interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<PromDuration>,
    /// Most alerts (alerting rule) or series (recording rule) a rule may produce; 0: no limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub limit: usize,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// An alerting rule (`alert`) or a recording rule (`record`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    #[serde(default)]
    pub expr: String,
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<PromDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_firing_for: Option<PromDuration>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Rule {
    /// The rule's name: `alert` or `record`.
    pub fn name(&self) -> &str {
        self.alert.as_deref().or(self.record.as_deref()).unwrap_or("")
    }

    pub fn is_alerting(&self) -> bool {
        self.alert.is_some()
    }
}

/// Reads a namespace file.
pub fn parse_file(yaml: &str) -> Result<RuleFile, String> {
    if yaml.trim().is_empty() {
        return Ok(RuleFile::default());
    }
    serde_saphyr::from_str(yaml).map_err(|e| e.to_string())
}

/// Reads one group (the body lokitool and cortextool POST).
pub fn parse_group(yaml: &str) -> Result<RuleGroup, String> {
    if yaml.trim().is_empty() {
        return Err("empty body: expected one rule group in YAML".into());
    }
    serde_saphyr::from_str(yaml).map_err(|e| e.to_string())
}

pub fn to_yaml<T: Serialize>(v: &T) -> String {
    serde_saphyr::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_a_namespace_file() {
        let y = "groups:\n  - name: g\n    interval: 30s\n    limit: 5\n    rules:\n      - alert: High\n        expr: sum(rate({app=\"a\"}[1m])) > 1\n        for: 2m\n        keep_firing_for: 1m\n        labels: {severity: page}\n        annotations: {summary: \"{{ $labels.app }}\"}\n      - record: app:lines:rate1m\n        expr: sum by (app) (rate({app=~\".+\"}[1m]))\n";
        let f = parse_file(y).unwrap();
        let g = &f.groups[0];
        assert_eq!(g.interval.unwrap().0.as_secs(), 30);
        assert_eq!(g.rules[0].name(), "High");
        assert_eq!(g.rules[0].for_.unwrap().0.as_secs(), 120);
        assert_eq!(g.rules[1].record.as_deref(), Some("app:lines:rate1m"));
        let back = parse_file(&to_yaml(&f)).unwrap();
        assert_eq!(back, f);
        let e = parse_file("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n        fro: 1m\n")
            .unwrap_err();
        assert!(e.contains("fro"), "{e}");
    }
}
