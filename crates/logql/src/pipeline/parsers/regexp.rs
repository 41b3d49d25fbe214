//! `| regexp "(?P<name>...)"`: named capture groups become labels.

use regex::{CaptureLocations, Regex};

use super::{sanitize_key, valid_label_name};
use crate::pipeline::labels::LabelsBuilder;
use crate::regexes::regex_err;

/// `| regexp` parser.
#[derive(Debug, Clone)]
pub(crate) struct RegexpParser {
    re: Regex,
    /// Per group, its label name (already sanitized) when named.
    names: Vec<Option<String>>,
    /// Reused match positions (no allocation per line).
    locs: CaptureLocations,
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
                    names.push(Some(sanitize_key(n, true)));
                }
                None => names.push(None),
            }
        }
        if seen.is_empty() {
            return Err("at least one named capture must be supplied".into());
        }
        let locs = r.capture_locations();
        Ok(RegexpParser { re: r, names, locs })
    }
}

impl RegexpParser {
    /// Sets the named groups of the first match as parsed labels.
    pub(crate) fn process(&self, line: &str, lbs: &mut LabelsBuilder) {
        let mut locs = self.re.capture_locations();
        Self::run(&self.re, &self.names, &mut locs, line, lbs);
    }

    /// [`Self::process`] reusing this parser's match positions.
    pub(crate) fn process_mut(&mut self, line: &str, lbs: &mut LabelsBuilder) {
        Self::run(&self.re, &self.names, &mut self.locs, line, lbs);
    }

    fn run(re: &Regex, names: &[Option<String>], locs: &mut CaptureLocations, line: &str, lbs: &mut LabelsBuilder) {
        // With parser hints naming none of the groups, matching cannot change anything.
        if !names.iter().flatten().any(|n| lbs.may_extract_raw(n.as_bytes())) {
            return;
        }
        if re.captures_read(locs, line).is_none() {
            return;
        }
        for (i, n) in names.iter().enumerate() {
            let Some(n) = n else { continue };
            let v = locs.get(i).map(|(a, b)| &line[a..b]).unwrap_or("");
            let k = lbs.parsed_key_cow(n);
            if !lbs.should_extract(&k) || lbs.extracted(&k) {
                continue;
            }
            lbs.set_parsed(&k, v);
        }
    }
}
