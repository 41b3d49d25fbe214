//! Promtail's `relabel_configs` over a container's label set, with its actions `replace`,
//! `keep`, `drop`, `labelmap`, `labeldrop` and `labelkeep`.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    #[default]
    Replace,
    Keep,
    Drop,
    Labelmap,
    Labeldrop,
    Labelkeep,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelabelConfig {
    #[serde(default)]
    pub source_labels: Vec<String>,
    #[serde(default = "default_separator")]
    pub separator: String,
    #[serde(default = "default_regex")]
    pub regex: String,
    #[serde(default)]
    pub target_label: Option<String>,
    #[serde(default = "default_replacement")]
    pub replacement: String,
    #[serde(default)]
    pub action: Action,
}

fn default_separator() -> String {
    ";".into()
}
fn default_regex() -> String {
    "(.*)".into()
}
fn default_replacement() -> String {
    "$1".into()
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    cfg: RelabelConfig,
    re: Regex,
}

impl Rule {
    pub fn compile(cfg: &RelabelConfig) -> Result<Rule, String> {
        let re = model::goregex::compile(&format!("^(?:{})$", cfg.regex))
            .map_err(|e| format!("relabel_configs: bad regex {:?}: {e}", cfg.regex))?;
        if cfg.action == Action::Replace && cfg.target_label.is_none() {
            return Err("relabel_configs: action replace needs target_label".into());
        }
        Ok(Rule { cfg: cfg.clone(), re })
    }
}

/// Go's `$1`/`${1}`/`$name` expansion of a replacement.
fn expand(re: &Regex, src: &str, replacement: &str) -> Option<String> {
    let caps = re.captures(src)?;
    let mut out = String::new();
    caps.expand(replacement, &mut out);
    Some(out)
}

/// Applies the rules; `None` when a keep/drop rule removes the target.
pub fn apply(rules: &[Rule], mut labels: BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    for r in rules {
        let c = &r.cfg;
        let value = || {
            c.source_labels
                .iter()
                .map(|l| labels.get(l).map(String::as_str).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(&c.separator)
        };
        match c.action {
            Action::Replace => {
                let v = value();
                if let Some(res) = expand(&r.re, &v, &c.replacement) {
                    let target = c.target_label.clone().unwrap_or_default();
                    if res.is_empty() {
                        labels.remove(&target);
                    } else {
                        labels.insert(target, res);
                    }
                }
            }
            Action::Keep => {
                if !r.re.is_match(&value()) {
                    return None;
                }
            }
            Action::Drop => {
                if r.re.is_match(&value()) {
                    return None;
                }
            }
            Action::Labelmap => {
                let add: Vec<(String, String)> = labels
                    .iter()
                    .filter_map(|(k, v)| expand(&r.re, k, &c.replacement).map(|nk| (nk, v.clone())))
                    .collect();
                labels.extend(add);
            }
            Action::Labeldrop => labels.retain(|k, _| !r.re.is_match(k)),
            Action::Labelkeep => labels.retain(|k, _| r.re.is_match(k)),
        }
    }
    Some(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(yaml: &[RelabelConfig]) -> Vec<Rule> {
        yaml.iter().map(|c| Rule::compile(c).unwrap()).collect()
    }

    fn cfg(action: Action, src: &[&str], regex: &str, target: Option<&str>, repl: &str) -> RelabelConfig {
        RelabelConfig {
            source_labels: src.iter().map(|s| s.to_string()).collect(),
            separator: ";".into(),
            regex: regex.into(),
            target_label: target.map(String::from),
            replacement: repl.into(),
            action,
        }
    }

    #[test]
    fn promtail_actions() {
        let base: BTreeMap<String, String> = [
            ("__meta_docker_container_name", "/shop.web.1"),
            ("__meta_docker_container_label_com_dokku_app_name", "shop"),
            ("app", "shop"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let r = rules(&[
            cfg(Action::Replace, &["__meta_docker_container_name"], "/(.*)", Some("name"), "$1"),
            cfg(Action::Labelmap, &[], "__meta_docker_container_label_com_dokku_(.+)", None, "dokku_$1"),
        ]);
        let out = apply(&r, base.clone()).unwrap();
        assert_eq!(out["name"], "shop.web.1");
        assert_eq!(out["dokku_app_name"], "shop");
        assert!(apply(&rules(&[cfg(Action::Keep, &["app"], "other", None, "$1")]), base.clone()).is_none());
        assert!(apply(&rules(&[cfg(Action::Drop, &["app"], "sh.p", None, "$1")]), base.clone()).is_none());
        let out = apply(&rules(&[cfg(Action::Labeldrop, &[], "__meta.*", None, "$1")]), base.clone()).unwrap();
        assert_eq!(out.len(), 1);
        let out = apply(&rules(&[cfg(Action::Labelkeep, &[], "app", None, "$1")]), base).unwrap();
        assert_eq!(out.keys().collect::<Vec<_>>(), vec!["app"]);
    }
}
