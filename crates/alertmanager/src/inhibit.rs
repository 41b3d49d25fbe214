//! Inhibition: a firing alert matching a rule's source matchers mutes the alerts matching its
//! target matchers that carry the same values for the rule's `equal` labels. An alert never
//! inhibits itself.

use std::collections::HashMap;

use jiff::Timestamp;
use model::Matcher;

use crate::alerts::Alert;
use crate::config::InhibitRuleConfig;
use crate::matchers::matches_all;

#[derive(Debug, Clone)]
pub struct InhibitRule {
    pub source: Vec<Matcher>,
    pub target: Vec<Matcher>,
    pub equal: Vec<String>,
}

impl InhibitRule {
    pub fn compile(c: &InhibitRuleConfig) -> Result<Self, String> {
        Ok(InhibitRule { source: c.sources()?, target: c.targets()?, equal: c.equal.clone() })
    }
}

/// The firing source alerts of each rule, keyed by their `equal` label values: built once per
/// pass, so checking every alert costs one lookup per rule.
pub struct InhibitIndex<'r> {
    rules: &'r [InhibitRule],
    sources: Vec<HashMap<Vec<Option<String>>, Vec<u64>>>,
}

impl<'r> InhibitIndex<'r> {
    pub fn build<'a>(rules: &'r [InhibitRule], alerts: impl Iterator<Item = &'a Alert>, now: Timestamp) -> Self {
        let mut sources: Vec<HashMap<Vec<Option<String>>, Vec<u64>>> = vec![HashMap::new(); rules.len()];
        if !rules.is_empty() {
            for a in alerts.filter(|a| !a.resolved(now)) {
                for (r, idx) in rules.iter().zip(sources.iter_mut()) {
                    if matches_all(&r.source, |n| a.label(n)) {
                        let key = r.equal.iter().map(|l| a.label(l).map(String::from)).collect();
                        idx.entry(key).or_default().push(a.fingerprint);
                    }
                }
            }
        }
        InhibitIndex { rules, sources }
    }

    /// The fingerprints (hex) of the firing alerts that inhibit `target`.
    pub fn inhibited_by(&self, target: &Alert) -> Vec<String> {
        let mut out = Vec::new();
        for (r, idx) in self.rules.iter().zip(&self.sources) {
            if idx.is_empty() || !matches_all(&r.target, |n| target.label(n)) {
                continue;
            }
            let key: Vec<Option<String>> = r.equal.iter().map(|l| target.label(l).map(String::from)).collect();
            for fp in idx.get(&key).into_iter().flatten() {
                let hex = format!("{fp:016x}");
                if *fp != target.fingerprint && !out.contains(&hex) {
                    out.push(hex);
                }
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::validate;
    use model::alert::PostableAlert;
    use std::time::Duration;

    fn alert(l: &[(&str, &str)]) -> Alert {
        let p = PostableAlert {
            labels: l.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Default::default()
        };
        validate(p, Timestamp::now(), Duration::from_secs(300)).unwrap()
    }

    #[test]
    fn source_mutes_target_with_equal_labels() {
        let cfg: InhibitRuleConfig = serde_saphyr::from_str(
            "source_matchers: ['sev=\"crit\"']\ntarget_matchers: ['sev=\"warn\"']\nequal: [cluster]\n",
        )
        .unwrap();
        let rules = vec![InhibitRule::compile(&cfg).unwrap()];
        let crit = alert(&[("sev", "crit"), ("cluster", "a")]);
        let warn_a = alert(&[("sev", "warn"), ("cluster", "a")]);
        let warn_b = alert(&[("sev", "warn"), ("cluster", "b")]);
        let all = [crit.clone(), warn_a.clone(), warn_b.clone()];
        let now = Timestamp::now();
        let idx = InhibitIndex::build(&rules, all.iter(), now);
        assert_eq!(idx.inhibited_by(&warn_a), vec![crit.fingerprint_hex()]);
        assert!(idx.inhibited_by(&warn_b).is_empty());
        assert!(idx.inhibited_by(&crit).is_empty());
        // A resolved source inhibits nothing.
        assert!(
            InhibitIndex::build(&rules, all.iter(), now + Duration::from_secs(600)).inhibited_by(&warn_a).is_empty()
        );
    }
}
