//! One node of the `route` tree as written; [`crate::route`] compiles it with inheritance.

use std::collections::{BTreeMap, HashSet};

use model::duration::PromDuration;
use model::{MatchOp, Matcher};
use serde::Deserialize;

use crate::matchers::de_matcher_list;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RouteConfig {
    pub receiver: Option<String>,
    /// Label names to group by; `...` groups by all labels.
    pub group_by: Option<Vec<String>>,
    pub group_wait: Option<PromDuration>,
    pub group_interval: Option<PromDuration>,
    pub repeat_interval: Option<PromDuration>,
    #[serde(deserialize_with = "de_matcher_list")]
    pub matchers: Vec<Matcher>,
    /// Legacy `match`: label equals value.
    #[serde(rename = "match")]
    pub match_eq: BTreeMap<String, String>,
    /// Legacy `match_re`: label matches an anchored regular expression.
    pub match_re: BTreeMap<String, String>,
    #[serde(rename = "continue")]
    pub continue_matching: bool,
    pub routes: Vec<RouteConfig>,
}

impl RouteConfig {
    pub(super) fn check_receivers(&self, path: &str, names: &HashSet<&str>) -> Result<(), String> {
        if let Some(r) = &self.receiver
            && !names.contains(r.as_str())
        {
            return Err(format!("{path}.receiver: unknown receiver {r:?}"));
        }
        if let Some(g) = &self.group_by
            && g.iter().any(|l| l == "...")
            && g.len() > 1
        {
            return Err(format!("{path}.group_by: '...' must be alone"));
        }
        self.all_matchers().map_err(|e| format!("{path}.match_re: {e}"))?;
        for (i, c) in self.routes.iter().enumerate() {
            c.check_receivers(&format!("{path}.routes[{i}]"), names)?;
        }
        Ok(())
    }

    /// `matchers` plus the legacy `match` and `match_re`.
    pub fn all_matchers(&self) -> Result<Vec<Matcher>, String> {
        merge_legacy(&self.matchers, &self.match_eq, &self.match_re)
    }
}

pub(super) fn merge_legacy(
    ms: &[Matcher],
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, String>,
) -> Result<Vec<Matcher>, String> {
    let mut out = ms.to_vec();
    for (k, v) in eq {
        out.push(Matcher::new(k, MatchOp::Eq, v).map_err(|e| e.to_string())?);
    }
    for (k, v) in re {
        out.push(Matcher::new(k, MatchOp::Re, v).map_err(|e| format!("{k}: invalid regular expression: {e}"))?);
    }
    Ok(out)
}
