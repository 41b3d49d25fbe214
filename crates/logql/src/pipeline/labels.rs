//! The per-entry label state (Loki's `LabelsBuilder`): stream labels, structured metadata and
//! parsed labels kept apart, deletions, parser hints and the `__error__` labels.

use std::collections::HashMap;

use model::Labels;

pub(crate) const ERROR_LABEL: &str = "__error__";
pub(crate) const ERROR_DETAILS_LABEL: &str = "__error_details__";
pub(crate) const PRESERVE_ERROR_LABEL: &str = "__preserve_error__";
pub(crate) const ERR_JSON: &str = "JSONParserErr";
pub(crate) const ERR_LOGFMT: &str = "LogfmtParserErr";
pub(crate) const ERR_LABEL_FILTER: &str = "LabelFilterErr";
pub(crate) const ERR_TEMPLATE: &str = "TemplateFormatErr";
pub(crate) const ERR_SAMPLE_EXTRACTION: &str = "SampleExtractionErr";

const STREAM: usize = 0;
pub(crate) const META: usize = 1;
const PARSED: usize = 2;

/// Per-entry label state, mirroring Loki's `LabelsBuilder`.
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    /// Labels parsers should extract (Loki's parser hints); `None` = all.
    pub(super) hints: Option<std::sync::Arc<Vec<String>>>,
    base: Vec<(String, String)>,
    del: Vec<String>,
    add: [Vec<(String, String)>; 3],
    extracted: Vec<String>,
    /// Strings of earlier entries' labels, reused so a parsed label costs no allocation once
    /// the pipeline has warmed up (bounded by `SPARE_MAX`).
    spare: Vec<String>,
    pub err: String,
    pub err_details: String,
}

/// The most reusable strings a builder keeps between entries.
const SPARE_MAX: usize = 256;

fn contains(v: &[(String, String)], k: &str) -> bool {
    v.iter().any(|(n, _)| n == k)
}

impl LabelsBuilder {
    pub fn new(base: &Labels) -> Self {
        LabelsBuilder { base: base.as_slice().to_vec(), ..Default::default() }
    }

    pub fn reset(&mut self) {
        let spare = &mut self.spare;
        let room = |spare: &Vec<String>| spare.len() + 2 <= SPARE_MAX;
        for d in self.del.drain(..) {
            if room(spare) {
                spare.push(d);
            }
        }
        for a in &mut self.add {
            for (k, v) in a.drain(..) {
                if room(spare) {
                    spare.push(k);
                    spare.push(v);
                }
            }
        }
        for e in self.extracted.drain(..) {
            if room(spare) {
                spare.push(e);
            }
        }
        self.err.clear();
        self.err_details.clear();
    }

    pub fn base_has(&self, k: &str) -> bool {
        self.base.iter().any(|(n, _)| n == k)
    }

    pub fn has_in(&self, cat: usize, k: &str) -> bool {
        contains(&self.add[cat], k)
    }

    /// Adds structured metadata as Loki does at the start of a pipeline.
    pub fn add_metadata(&mut self, md: &[(String, String)]) {
        for (k, v) in md {
            let mut name = k.clone();
            if self.base_has(&name) {
                name.push_str("_extracted");
            }
            if name == ERROR_LABEL {
                self.err = v.clone();
                continue;
            }
            if name == ERROR_DETAILS_LABEL {
                self.err_details = v.clone();
                continue;
            }
            self.set(META, &name, v);
        }
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        for cat in &self.add {
            if let Some((_, v)) = cat.iter().find(|(n, _)| n == k) {
                return Some(v);
            }
        }
        if self.del.iter().any(|d| d == k) {
            return None;
        }
        self.base.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// Value for string matchers: error labels included, missing = "".
    pub fn value_of(&self, k: &str) -> &str {
        if k == ERROR_LABEL {
            return &self.err;
        }
        if k == ERROR_DETAILS_LABEL {
            return &self.err_details;
        }
        self.get(k).unwrap_or("")
    }

    pub fn del(&mut self, k: &str) {
        for cat in &mut self.add {
            cat.retain(|(n, _)| n != k);
        }
        let d = self.string(k);
        self.del.push(d);
    }

    /// `s` in a reused string when one is spare.
    fn string(&mut self, s: &str) -> String {
        match self.spare.pop() {
            Some(mut x) => {
                x.clear();
                x.push_str(s);
                x
            }
            None => s.to_string(),
        }
    }

    pub fn set(&mut self, cat: usize, k: &str, v: &str) {
        if cat == PARSED {
            self.add[META].retain(|(n, _)| n != k);
            self.add[STREAM].retain(|(n, _)| n != k);
        }
        if cat == META {
            self.add[STREAM].retain(|(n, _)| n != k);
            if contains(&self.add[PARSED], k) {
                return;
            }
        }
        if cat == STREAM && (contains(&self.add[META], k) || contains(&self.add[PARSED], k)) {
            return;
        }
        if let Some(e) = self.add[cat].iter_mut().find(|(n, _)| n == k) {
            e.1.clear();
            e.1.push_str(v);
            return;
        }
        let pair = (self.string(k), self.string(v));
        self.add[cat].push(pair);
        if cat == PARSED {
            let e = self.string(k);
            self.extracted.push(e);
        }
    }

    pub fn set_parsed(&mut self, k: &str, v: &str) {
        self.set(PARSED, k, v);
    }

    /// Whether parsers should extract `k` (parser hints).
    pub fn should_extract(&self, k: &str) -> bool {
        self.hints.as_ref().is_none_or(|h| h.iter().any(|x| x == k))
    }

    /// A cheap necessary condition for [`Self::should_extract`] on a key as written in the line,
    /// before it is sanitized (Loki's `sanitizeLabelKey`) or suffixed with `_extracted`: false
    /// only when neither its sanitized form nor that with `_extracted` is a hint. Keys with
    /// non-ASCII bytes or surrounding whitespace are let through (the exact test follows).
    pub(crate) fn may_extract_raw(&self, raw: &[u8]) -> bool {
        let Some(h) = self.hints.as_ref() else { return true };
        let Some(&first) = raw.first() else { return true };
        if !raw.is_ascii() || first <= b' ' || raw[raw.len() - 1] <= b' ' {
            return true;
        }
        let pre = usize::from(first.is_ascii_digit());
        let n = raw.len() + pre;
        h.iter().any(|x| {
            let x = x.as_bytes();
            (x.len() == n || (x.len() == n + 10 && x.ends_with(b"_extracted")))
                && (pre == 0 || x[0] == b'_')
                && x[pre..n]
                    .iter()
                    .zip(raw)
                    .all(|(a, b)| *a == if b.is_ascii_alphanumeric() || *b == b'_' { *b } else { b'_' })
        })
    }

    /// Whether every (non-empty) hint has been extracted: then no later key of the line can
    /// set a label (a parser that need not report later syntax errors may stop).
    pub(crate) fn all_hints_extracted(&self) -> bool {
        self.hints.as_ref().is_some_and(|h| h.iter().all(|x| x.is_empty() || self.extracted(x)))
    }

    pub(crate) fn should_extract_prefix(&self, p: &str) -> bool {
        self.hints.as_ref().is_none_or(|h| h.iter().any(|x| x.starts_with(p)))
    }

    pub(crate) fn extracted(&self, k: &str) -> bool {
        self.extracted.iter().any(|e| e == k)
    }

    pub fn set_err(&mut self, e: &str, details: Option<&str>) {
        self.err.clear();
        self.err.push_str(e);
        if let Some(d) = details {
            self.err_details.clear();
            self.err_details.push_str(d);
        }
    }

    /// A parser's error (`json`, `logfmt`, `unpack`). When the query asked for `__error__` (a
    /// metric query grouping by it or filtering on it, so it is among the parser hints), the
    /// parsed label `__preserve_error__="true"` marks the sample as wanted: its series does not
    /// fail the query (Loki's `PreserveError`). Other stages' errors never carry it.
    pub(crate) fn set_parser_err(&mut self, e: &str, details: Option<&str>) {
        self.set_err(e, details);
        if self.preserve_error() {
            self.set(PARSED, PRESERVE_ERROR_LABEL, "true");
        }
    }

    /// Whether `__error__` is among the parser hints.
    pub(crate) fn preserve_error(&self) -> bool {
        self.hints.as_ref().is_some_and(|h| h.iter().any(|x| x == ERROR_LABEL))
    }

    /// Parsed-key name with `_extracted` when it clashes with a stream label or metadata.
    pub(crate) fn parsed_key_cow<'k>(&self, k: &'k str) -> std::borrow::Cow<'k, str> {
        if self.base_has(k) || self.has_in(META, k) { format!("{k}_extracted").into() } else { k.into() }
    }

    pub(crate) fn parsed_key(&self, k: String) -> String {
        if self.base_has(&k) || self.has_in(META, &k) { format!("{k}_extracted") } else { k }
    }

    /// All labels, unsorted, in Loki's category order; errors last.
    pub fn unsorted(&self) -> Vec<(String, String)> {
        let mut out = Vec::with_capacity(self.base.len() + 4);
        for (k, v) in &self.base {
            if self.del.iter().any(|d| d == k) || contains(&self.add[META], k) || contains(&self.add[PARSED], k) {
                continue;
            }
            match self.add[STREAM].iter().find(|(n, _)| n == k) {
                Some((_, v2)) => out.push((k.clone(), v2.clone())),
                None => out.push((k.clone(), v.clone())),
            }
        }
        for (k, v) in &self.add[META] {
            if !contains(&self.add[PARSED], k) {
                out.push((k.clone(), v.clone()));
            }
        }
        out.extend(self.add[PARSED].iter().cloned());
        if !self.err.is_empty() {
            out.push((ERROR_LABEL.into(), self.err.clone()));
        }
        if !self.err_details.is_empty() {
            out.push((ERROR_DETAILS_LABEL.into(), self.err_details.clone()));
        }
        out
    }

    pub fn map(&self) -> HashMap<String, String> {
        self.unsorted().into_iter().collect()
    }

    /// True when no stage (nor metadata) changed the stream labels.
    pub fn is_unchanged(&self) -> bool {
        self.del.is_empty()
            && self.add.iter().all(|a| a.is_empty())
            && self.err.is_empty()
            && self.err_details.is_empty()
    }

    /// The final label set and its categories.
    pub fn result(&self) -> LabelsResult {
        if self.is_unchanged() {
            let l = Labels::from_sorted(self.base.clone());
            return LabelsResult { all: l.clone(), stream: l, metadata: vec![], parsed: vec![] };
        }
        let all = sorted_labels(self.unsorted());
        let mut stream = Vec::new();
        let mut meta = Vec::new();
        let mut parsed = Vec::new();
        for (k, v) in all.iter() {
            if k == ERROR_LABEL || k == ERROR_DETAILS_LABEL || contains(&self.add[PARSED], k) {
                parsed.push((k.to_string(), v.to_string()));
            } else if contains(&self.add[META], k) {
                meta.push((k.to_string(), v.to_string()));
            } else {
                stream.push((k.to_string(), v.to_string()));
            }
        }
        LabelsResult { all, stream: Labels::from_sorted(stream), metadata: meta, parsed }
    }

    /// Labels after `by`/`without` grouping (errors kept with `without`, as Loki does).
    pub fn grouped(&self, by: &[String], without: bool) -> Labels {
        if !without {
            let mut v = Vec::with_capacity(by.len());
            for g in by {
                if let Some(val) = self.get(g) {
                    v.push((g.clone(), val.to_string()));
                }
            }
            return sorted_labels(v);
        }
        let all = self.unsorted();
        if without {
            sorted_labels(all.into_iter().filter(|(k, _)| !by.contains(k)).collect())
        } else {
            sorted_labels(all.into_iter().filter(|(k, _)| by.contains(k)).collect())
        }
    }
}

/// Sorts pairs by name (first occurrence wins) into a `Labels`, keeping empty values.
pub(crate) fn sorted_labels(mut v: Vec<(String, String)>) -> Labels {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v.dedup_by(|a, b| a.0 == b.0);
    Labels::from_sorted(v)
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabelsResult {
    pub all: Labels,
    pub stream: Labels,
    pub metadata: Vec<(String, String)>,
    pub parsed: Vec<(String, String)>,
}

/// One entry after the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntryOut {
    pub ts: i64,
    pub line: String,
    /// Every label of the entry (stream + metadata + parsed + errors).
    pub labels: Labels,
    /// The labels that are neither structured metadata nor parsed.
    pub stream: Labels,
    pub metadata: Vec<(String, String)>,
    /// Parsed labels, including `__error__`/`__error_details__`.
    pub parsed: Vec<(String, String)>,
}
