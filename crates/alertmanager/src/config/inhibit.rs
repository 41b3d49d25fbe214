//! One entry of `inhibit_rules`.

use std::collections::BTreeMap;

use model::Matcher;
use serde::Deserialize;

use crate::matchers::de_matcher_list;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InhibitRuleConfig {
    #[serde(deserialize_with = "de_matcher_list")]
    pub source_matchers: Vec<Matcher>,
    #[serde(deserialize_with = "de_matcher_list")]
    pub target_matchers: Vec<Matcher>,
    /// Legacy equality matchers.
    pub source_match: BTreeMap<String, String>,
    pub source_match_re: BTreeMap<String, String>,
    pub target_match: BTreeMap<String, String>,
    pub target_match_re: BTreeMap<String, String>,
    /// Labels that must have the same value in the source and the target.
    pub equal: Vec<String>,
}

impl InhibitRuleConfig {
    /// All source matchers, legacy ones included.
    pub fn sources(&self) -> Result<Vec<Matcher>, String> {
        super::route::merge_legacy(&self.source_matchers, &self.source_match, &self.source_match_re)
    }

    pub fn targets(&self) -> Result<Vec<Matcher>, String> {
        super::route::merge_legacy(&self.target_matchers, &self.target_match, &self.target_match_re)
    }
}
