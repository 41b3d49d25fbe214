//! `| regexp "(?P<name>...)"`: named capture groups become labels.

use regex::Regex;

use super::{sanitize_key, valid_label_name};
use crate::pipeline::labels::LabelsBuilder;
use crate::regexes::regex_err;

/// `| regexp` parser.
#[derive(Debug, Clone)]
pub(crate) struct RegexpParser {
    re: Regex,
    names: Vec<Option<String>>,
}

impl RegexpParser {
    pub(crate) fn new(re: &str) -> Result<RegexpParser, String> {
        // Go accepts duplicate group names (Loki then rejects them); Rust refuses them earlier.
        let mut seen_names: Vec<&str> = Vec::new();
        for pfx in ["(?P<", "(?<"] {
            for (i, _) in re.match_indices(pfx) {
                let rest = &re[i + pfx.len()..];
                if let Some(e) = rest.find('>') {
                    let n = &rest[..e];
                    if seen_names.contains(&n) {
                        return Err(format!("duplicate extracted label name '{n}'"));
                    }
                    seen_names.push(n);
                }
            }
        }
        let r = model::goregex::compile(re).map_err(|e| regex_err(re, &e))?;
        let mut names = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for n in r.capture_names() {
            match n {
                Some(n) => {
                    if !valid_label_name(n) {
                        return Err(format!("invalid extracted label name '{n}'"));
                    }
                    if seen.iter().any(|s| s == n) {
                        return Err(format!("duplicate extracted label name '{n}'"));
                    }
                    seen.push(n.to_string());
                    names.push(Some(n.to_string()));
                }
                None => names.push(None),
            }
        }
        if seen.is_empty() {
            return Err("at least one named capture must be supplied".into());
        }
        Ok(RegexpParser { re: r, names })
    }
}

impl RegexpParser {
    /// Sets the named groups of the first match as parsed labels.
    pub(crate) fn process(&self, line: &str, lbs: &mut LabelsBuilder) {
        let r = self;
        if let Some(caps) = r.re.captures(line) {
            for (i, n) in r.names.iter().enumerate() {
                let Some(n) = n else { continue };
                let v = caps.get(i).map(|m| m.as_str()).unwrap_or("");
                let k = lbs.parsed_key(sanitize_key(n, true));
                if !lbs.should_extract(&k) || lbs.extracted(&k) {
                    continue;
                }
                lbs.set_parsed(&k, v);
            }
        }
    }
}
