//! Loki's `otlp_config`: which resource, scope and log attributes become index labels, which
//! structured metadata, which are dropped.
//!
//! The first rule (in order) whose `attributes` list holds the attribute's name, or whose `regex`
//! (anchored at both ends, as Prometheus' relabel regexes are) matches it, decides; with no
//! rule, an attribute is structured metadata. Unless `ignore_defaults` is set, the resource rules
//! start with Loki's default `index_label` rule for [`DEFAULT_INDEX_LABELS`].

use serde::{Deserialize, Serialize};

/// Loki's `distributor.otlp.default_resource_attributes_as_index_labels`.
pub const DEFAULT_INDEX_LABELS: [&str; 18] = [
    "service.name",
    "service.namespace",
    "service.instance.id",
    "deployment.environment",
    "deployment.environment.name",
    "cloud.region",
    "cloud.availability_zone",
    "k8s.cluster.name",
    "k8s.namespace.name",
    "k8s.pod.name",
    "k8s.container.name",
    "container.name",
    "k8s.replicaset.name",
    "k8s.deployment.name",
    "k8s.statefulset.name",
    "k8s.daemonset.name",
    "k8s.cronjob.name",
    "k8s.job.name",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    IndexLabel,
    #[default]
    StructuredMetadata,
    Drop,
}

/// One rule: an action for the attributes named in `attributes` or matching `regex`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "RawAttributesConfig", into = "RawAttributesConfig")]
pub struct AttributesConfig {
    pub action: Action,
    pub attributes: Vec<String>,
    pub regex: Option<AnchoredRegex>,
}

#[derive(Debug, Clone)]
pub struct AnchoredRegex {
    source: String,
    re: regex::Regex,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttributesConfig {
    #[serde(default)]
    action: Action,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    attributes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    regex: Option<String>,
}

impl TryFrom<RawAttributesConfig> for AttributesConfig {
    type Error = String;
    fn try_from(r: RawAttributesConfig) -> Result<Self, String> {
        match (&r.regex, r.attributes.is_empty()) {
            (None, true) => return Err("otlp_config: attributes or regex must be set".into()),
            (Some(_), false) => return Err("otlp_config: only one of attributes or regex must be set".into()),
            _ => {}
        }
        let regex = match r.regex {
            None => None,
            Some(source) => {
                let re = regex::Regex::new(&format!("^(?:{source})$"))
                    .map_err(|e| format!("otlp_config: invalid regex {source:?}: {e}"))?;
                Some(AnchoredRegex { source, re })
            }
        };
        Ok(AttributesConfig { action: r.action, attributes: r.attributes, regex })
    }
}

impl From<AttributesConfig> for RawAttributesConfig {
    fn from(c: AttributesConfig) -> Self {
        RawAttributesConfig { action: c.action, attributes: c.attributes, regex: c.regex.map(|r| r.source) }
    }
}

impl AttributesConfig {
    fn matches(&self, name: &str) -> bool {
        self.regex.as_ref().is_some_and(|r| r.re.is_match(name)) || self.attributes.iter().any(|a| a == name)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceAttributesConfig {
    /// Leave out Loki's default `index_label` rule.
    pub ignore_defaults: bool,
    pub attributes_config: Vec<AttributesConfig>,
}

/// Loki's `limits_config.otlp_config`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, try_from = "RawOtlpConfig")]
pub struct OtlpConfig {
    pub resource_attributes: ResourceAttributesConfig,
    /// Scope attribute rules (`structured_metadata` or `drop` only).
    pub scope_attributes: Vec<AttributesConfig>,
    /// Log attribute rules (`structured_metadata` or `drop` only).
    pub log_attributes: Vec<AttributesConfig>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawOtlpConfig {
    resource_attributes: ResourceAttributesConfig,
    scope_attributes: Vec<AttributesConfig>,
    log_attributes: Vec<AttributesConfig>,
}

impl TryFrom<RawOtlpConfig> for OtlpConfig {
    type Error = String;
    fn try_from(r: RawOtlpConfig) -> Result<Self, String> {
        if r.scope_attributes.iter().chain(&r.log_attributes).any(|c| c.action == Action::IndexLabel) {
            return Err("otlp_config: index_label action is only supported for resource_attributes".into());
        }
        Ok(OtlpConfig {
            resource_attributes: r.resource_attributes,
            scope_attributes: r.scope_attributes,
            log_attributes: r.log_attributes,
        })
    }
}

fn action(rules: &[AttributesConfig], name: &str) -> Action {
    rules.iter().find(|c| c.matches(name)).map_or(Action::StructuredMetadata, |c| c.action)
}

impl OtlpConfig {
    pub fn resource_action(&self, name: &str) -> Action {
        if !self.resource_attributes.ignore_defaults && DEFAULT_INDEX_LABELS.contains(&name) {
            return Action::IndexLabel;
        }
        action(&self.resource_attributes.attributes_config, name)
    }

    pub fn scope_action(&self, name: &str) -> Action {
        action(&self.scope_attributes, name)
    }

    pub fn log_action(&self, name: &str) -> Action {
        action(&self.log_attributes, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<OtlpConfig, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_then_rules_in_order() {
        let c = OtlpConfig::default();
        assert_eq!(c.resource_action("service.name"), Action::IndexLabel);
        assert_eq!(c.resource_action("k8s.pod.name"), Action::IndexLabel);
        assert_eq!(c.resource_action("host.name"), Action::StructuredMetadata);
        let c = parse(
            r#"{"resource_attributes":{"attributes_config":[
                {"action":"index_label","attributes":["host.name"]},
                {"action":"drop","regex":"process\\..*"},
                {"action":"drop","attributes":["service.name"]}]},
               "log_attributes":[{"action":"drop","regex":"code"}]}"#,
        )
        .unwrap();
        assert_eq!(c.resource_action("host.name"), Action::IndexLabel);
        assert_eq!(c.resource_action("process.pid"), Action::Drop);
        assert_eq!(c.resource_action("xprocess.pid"), Action::StructuredMetadata, "regexes are anchored");
        assert_eq!(c.resource_action("service.name"), Action::IndexLabel, "the default rule comes first");
        assert_eq!(c.log_action("code"), Action::Drop);
        assert_eq!(c.log_action("code.lineno"), Action::StructuredMetadata);
        let c = parse(r#"{"resource_attributes":{"ignore_defaults":true,"attributes_config":[{"action":"drop","attributes":["service.name"]}]}}"#).unwrap();
        assert_eq!(c.resource_action("service.name"), Action::Drop);
        assert_eq!(c.resource_action("k8s.pod.name"), Action::StructuredMetadata);
    }

    #[test]
    fn bad_configs_name_the_problem() {
        assert!(
            parse(r#"{"log_attributes":[{"action":"index_label","attributes":["a"]}]}"#)
                .unwrap_err()
                .contains("only supported for resource_attributes")
        );
        assert!(
            parse(r#"{"log_attributes":[{"action":"drop"}]}"#).unwrap_err().contains("attributes or regex must be set")
        );
        assert!(
            parse(r#"{"log_attributes":[{"action":"drop","attributes":["a"],"regex":"b"}]}"#)
                .unwrap_err()
                .contains("only one of")
        );
        assert!(
            parse(r#"{"log_attributes":[{"action":"keep","attributes":["a"]}]}"#)
                .unwrap_err()
                .contains("unknown variant")
        );
        assert!(parse(r#"{"log_attributes":[{"regex":"("}]}"#).unwrap_err().contains("invalid regex"));
    }
}
