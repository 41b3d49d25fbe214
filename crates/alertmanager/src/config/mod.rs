//! Alertmanager's configuration file (`global`, `route`, `receivers`, `inhibit_rules`), read
//! strictly: an unknown or unsupported field is an error naming the file, line and field.

mod global;
mod inhibit;
mod receivers;
mod route;

use std::collections::HashSet;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

pub use global::Global;
pub use inhibit::InhibitRuleConfig;
pub use receivers::{EmailConfig, GotifyConfig, NtfyConfig, ReceiverConfig, SlackConfig, WebhookConfig};
pub use route::RouteConfig;

/// A whole Alertmanager configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmConfig {
    #[serde(default)]
    pub global: Global,
    #[serde(default)]
    pub route: Option<RouteConfig>,
    #[serde(default)]
    pub receivers: Vec<ReceiverConfig>,
    #[serde(default)]
    pub inhibit_rules: Vec<InhibitRuleConfig>,
    /// Go template files: accepted only empty (Bitácora has no Go templates).
    #[serde(default)]
    pub templates: Vec<String>,
}

impl AmConfig {
    /// Reads and checks a configuration file; returns it and its text.
    pub fn load(path: &Path) -> anyhow::Result<(AmConfig, String)> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read Alertmanager configuration {}", path.display()))?;
        let cfg =
            Self::parse(&text).map_err(|e| anyhow::anyhow!("Alertmanager configuration {}: {e}", path.display()))?;
        Ok((cfg, text))
    }

    /// Parses and checks configuration text.
    pub fn parse(text: &str) -> Result<AmConfig, String> {
        let cfg: AmConfig = if text.trim().is_empty() {
            AmConfig::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| e.to_string())?
        };
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<(), String> {
        if !self.templates.is_empty() {
            return Err("templates: Go template files are not supported".into());
        }
        let mut names = HashSet::new();
        for (i, r) in self.receivers.iter().enumerate() {
            if r.name.is_empty() {
                return Err(format!("receivers[{i}].name: missing"));
            }
            if !names.insert(r.name.as_str()) {
                return Err(format!("receivers[{i}].name: duplicate receiver {:?}", r.name));
            }
            r.validate(&self.global).map_err(|e| format!("receivers[{i}] ({}).{e}", r.name))?;
        }
        if let Some(route) = &self.route {
            if route.receiver.is_none() {
                return Err("route.receiver: the root route needs a receiver".into());
            }
            if !route.matchers.is_empty() || !route.match_eq.is_empty() || !route.match_re.is_empty() {
                return Err("route.matchers: the root route must not have matchers".into());
            }
            route.check_receivers("route", &names)?;
        } else if !self.receivers.is_empty() {
            return Err("route: missing (receivers are configured but nothing routes to them)".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let c = AmConfig::parse(
            "route:\n  receiver: a\n  group_by: ['...']\n  routes:\n    - matchers: ['sev=\"crit\"']\n      receiver: b\n\
             receivers:\n  - name: a\n    webhook_configs: [{url: 'http://x/'}]\n  - name: b\n",
        )
        .unwrap();
        assert_eq!(c.global.resolve_timeout.0.as_secs(), 300);
        assert!(c.receivers[0].webhook_configs[0].send_resolved);
        let e = AmConfig::parse("route:\n  receiver: a\n  group_wait: soon\nreceivers: [{name: a}]\n").unwrap_err();
        assert!(e.contains("line 3") && e.contains("soon"), "{e}");
        let e = AmConfig::parse("route:\n  receiver: a\nreceivers: [{name: a, pagerduty_configs: []}]\n").unwrap_err();
        assert!(e.contains("pagerduty_configs"), "{e}");
        let e = AmConfig::parse("route:\n  receiver: nope\nreceivers: [{name: a}]\n").unwrap_err();
        assert!(e.contains("route.receiver") && e.contains("nope"), "{e}");
        let e =
            AmConfig::parse("route:\n  receiver: a\n  routes:\n  - matchers: ['x=~\"(\"']\nreceivers: [{name: a}]\n")
                .unwrap_err();
        assert!(e.contains("line 4") && e.contains("regular expression"), "{e}");
    }
}
