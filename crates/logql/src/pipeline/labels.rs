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

/// Label pairs of one category. Removing pairs (or clearing them all between entries) keeps
/// their strings past `n`, so the next entry's labels are written into them: a parsed label
/// costs no allocation once the pipeline has warmed up.
#[derive(Debug, Clone, Default)]
struct Pairs {
    v: Vec<(String, String)>,
    n: usize,
}

impl Pairs {
    #[inline]
    fn as_slice(&self) -> &[(String, String)] {
        &self.v[..self.n]
    }
    #[inline]
    fn iter(&self) -> std::slice::Iter<'_, (String, String)> {
        self.as_slice().iter()
    }
    fn is_empty(&self) -> bool {
        self.n == 0
    }
    fn clear(&mut self) {
        self.n = 0;
    }
    #[inline]
    fn contains(&self, k: &str) -> bool {
        contains(self.as_slice(), k)
    }
    fn push(&mut self, k: &str, v: &str) {
        match self.v.get_mut(self.n) {
            Some(e) => {
                e.0.clear();
                e.0.push_str(k);
                e.1.clear();
                e.1.push_str(v);
            }
            None => self.v.push((k.to_string(), v.to_string())),
        }
        self.n += 1;
    }
    /// Removes the pairs named `k` (keeping the order of the others).
    fn remove(&mut self, k: &str) {
        let mut i = 0;
        while i < self.n {
            if same(&self.v[i].0, k) {
                self.v[i..self.n].rotate_left(1);
                self.n -= 1;
            } else {
                i += 1;
            }
        }
    }
    #[inline]
    fn find_mut(&mut self, k: &str) -> Option<&mut (String, String)> {
        self.v[..self.n].iter_mut().find(|(n, _)| same(n, k))
    }
}

/// Names (deleted labels, extracted keys), with the same reuse of strings as [`Pairs`].
#[derive(Debug, Clone, Default)]
struct Names {
    v: Vec<String>,
    n: usize,
}

impl Names {
    fn as_slice(&self) -> &[String] {
        &self.v[..self.n]
    }
    #[inline]
    fn contains(&self, k: &str) -> bool {
        self.as_slice().iter().any(|x| same(x, k))
    }
    fn push(&mut self, k: &str) {
        match self.v.get_mut(self.n) {
            Some(e) => {
                e.clear();
                e.push_str(k);
            }
            None => self.v.push(k.to_string()),
        }
        self.n += 1;
    }
}

/// The parser hints with what makes testing a key against them cheap.
#[derive(Debug, Clone)]
pub(crate) struct Hints {
    pub(crate) names: std::sync::Arc<Vec<String>>,
    /// Bit `n` (n < 128) set when some hint is `n` bytes long; bit 127 stands for longer ones.
    lens: u128,
    /// The number of non-empty hints (each must be extracted before a parser may stop early).
    wanted: usize,
}

fn len_bit(n: usize) -> u128 {
    1u128 << n.min(127)
}

impl Hints {
    pub(crate) fn new(names: std::sync::Arc<Vec<String>>) -> Hints {
        let lens = names.iter().fold(0u128, |m, x| m | len_bit(x.len()));
        let mut uniq: Vec<&String> = names.iter().filter(|x| !x.is_empty()).collect();
        uniq.sort();
        uniq.dedup();
        Hints { wanted: uniq.len(), lens, names }
    }
    /// Whether some hint may be `n` bytes long.
    #[inline]
    fn may_have_len(&self, n: usize) -> bool {
        self.lens & len_bit(n) != 0
    }
    #[inline]
    pub(crate) fn contains(&self, k: &str) -> bool {
        self.may_have_len(k.len()) && self.names.iter().any(|x| same(x, k))
    }
}

/// Per-entry label state, mirroring Loki's `LabelsBuilder`.
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    /// Labels parsers should extract (Loki's parser hints); `None` = all.
    pub(super) hints: Option<Hints>,
    base: Vec<(String, String)>,
    del: Names,
    add: [Pairs; 3],
    extracted: Names,
    pub err: String,
    pub err_details: String,
}

fn contains(v: &[(String, String)], k: &str) -> bool {
    v.iter().any(|(n, _)| same(n, k))
}

/// `s.is_ascii()`, quicker for the short keys of log lines (two overlapping words).
#[inline]
fn short_ascii(s: &[u8]) -> bool {
    const HI: u64 = 0x8080_8080_8080_8080;
    let n = s.len();
    if !(8..=16).contains(&n) {
        return s.is_ascii();
    }
    let mut a = [0u8; 8];
    let mut b = [0u8; 8];
    a.copy_from_slice(&s[..8]);
    b.copy_from_slice(&s[n - 8..]);
    (u64::from_le_bytes(a) | u64::from_le_bytes(b)) & HI == 0
}

/// String equality, without a `memcmp` call for the short names and values labels have
/// (compared as two overlapping words).
#[inline]
pub(crate) fn same(a: &str, b: &str) -> bool {
    fn word4(s: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([s[at], s[at + 1], s[at + 2], s[at + 3]])
    }
    fn word8(s: &[u8], at: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        _ => a == b,
    }
}

impl LabelsBuilder {
    pub fn new(base: &Labels) -> Self {
        LabelsBuilder { base: base.as_slice().to_vec(), ..Default::default() }
    }

    pub fn reset(&mut self) {
        self.del.n = 0;
        for a in &mut self.add {
            a.clear();
        }
        self.extracted.n = 0;
        self.err.clear();
        self.err_details.clear();
    }

    #[inline]
    pub fn base_has(&self, k: &str) -> bool {
        contains(&self.base, k)
    }

    #[inline]
    pub fn has_in(&self, cat: usize, k: &str) -> bool {
        self.add[cat].contains(k)
    }

    /// Adds structured metadata as Loki does at the start of a pipeline.
    pub fn add_metadata(&mut self, md: &[(String, String)]) {
        for (k, v) in md {
            let suffixed;
            let name = match self.base_has(k) {
                true => {
                    suffixed = format!("{k}_extracted");
                    suffixed.as_str()
                }
                false => k.as_str(),
            };
            if name == ERROR_LABEL {
                self.err = v.clone();
                continue;
            }
            if name == ERROR_DETAILS_LABEL {
                self.err_details = v.clone();
                continue;
            }
            self.set(META, name, v);
        }
    }

    #[inline]
    pub fn get(&self, k: &str) -> Option<&str> {
        for cat in &self.add {
            if let Some((_, v)) = cat.iter().find(|(n, _)| same(n, k)) {
                return Some(v);
            }
        }
        if self.del.contains(k) {
            return None;
        }
        self.base.iter().find(|(n, _)| same(n, k)).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    /// Value for string matchers: error labels included, missing = "".
    #[inline]
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
            cat.remove(k);
        }
        self.del.push(k);
    }

    pub fn set(&mut self, cat: usize, k: &str, v: &str) {
        if cat == PARSED {
            self.add[META].remove(k);
            self.add[STREAM].remove(k);
        }
        if cat == META {
            self.add[STREAM].remove(k);
            if self.add[PARSED].contains(k) {
                return;
            }
        }
        if cat == STREAM && (self.add[META].contains(k) || self.add[PARSED].contains(k)) {
            return;
        }
        if let Some(e) = self.add[cat].find_mut(k) {
            e.1.clear();
            e.1.push_str(v);
            return;
        }
        self.add[cat].push(k, v);
        if cat == PARSED {
            self.extracted.push(k);
        }
    }

    #[inline]
    pub fn set_parsed(&mut self, k: &str, v: &str) {
        self.set(PARSED, k, v);
    }

    /// Whether parsers should extract `k` (parser hints).
    #[inline]
    pub fn should_extract(&self, k: &str) -> bool {
        self.hints.as_ref().is_none_or(|h| h.contains(k))
    }

    /// A cheap necessary condition for [`Self::should_extract`] on a key as written in the line,
    /// before it is sanitized (Loki's `sanitizeLabelKey`) or suffixed with `_extracted`: false
    /// only when neither its sanitized form nor that with `_extracted` is a hint. Keys with
    /// non-ASCII bytes or surrounding whitespace are let through (the exact test follows).
    #[inline]
    pub(crate) fn may_extract_raw(&self, raw: &[u8]) -> bool {
        let Some(h) = self.hints.as_ref() else { return true };
        let Some(&first) = raw.first() else { return true };
        if first <= b' ' || raw[raw.len() - 1] <= b' ' || !short_ascii(raw) {
            return true;
        }
        let pre = usize::from(first.is_ascii_digit());
        let n = raw.len() + pre;
        if !h.may_have_len(n) && !h.may_have_len(n + 10) {
            return false;
        }
        h.names.iter().any(|x| {
            let x = x.as_bytes();
            (x.len() == n || (x.len() == n + 10 && x.ends_with(b"_extracted")))
                && (pre == 0 || x[0] == b'_')
                && x[pre..n]
                    .iter()
                    .zip(raw)
                    .all(|(a, b)| *a == if b.is_ascii_alphanumeric() || *b == b'_' { *b } else { b'_' })
        })
    }

    /// Whether there are hints and none names a label (a query that uses no parsed label).
    pub(crate) fn hints_name_nothing(&self) -> bool {
        self.hints.as_ref().is_some_and(|h| h.wanted == 0)
    }

    /// Whether every (non-empty) hint has been extracted: then no later key of the line can
    /// set a label (a parser that need not report later syntax errors may stop).
    pub(crate) fn all_hints_extracted(&self) -> bool {
        self.hints
            .as_ref()
            .is_some_and(|h| self.extracted.n >= h.wanted && h.names.iter().all(|x| x.is_empty() || self.extracted(x)))
    }

    pub(crate) fn should_extract_prefix(&self, p: &str) -> bool {
        self.hints.as_ref().is_none_or(|h| h.names.iter().any(|x| x.starts_with(p)))
    }

    #[inline]
    pub(crate) fn extracted(&self, k: &str) -> bool {
        self.extracted.contains(k)
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
        self.hints.as_ref().is_some_and(|h| h.contains(ERROR_LABEL))
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
        self.each_label(|k, v| out.push((k.to_string(), v.to_string())));
        out
    }

    /// Visits the labels [`Self::unsorted`] lists, in its order, without copying them.
    pub(crate) fn each_label<'s>(&'s self, mut f: impl FnMut(&'s str, &'s str)) {
        for (k, v) in &self.base {
            if self.del.contains(k) || self.add[META].contains(k) || self.add[PARSED].contains(k) {
                continue;
            }
            match self.add[STREAM].iter().find(|(n, _)| same(n, k)) {
                Some((_, v2)) => f(k, v2),
                None => f(k, v),
            }
        }
        for (k, v) in self.add[META].iter() {
            if !self.add[PARSED].contains(k) {
                f(k, v);
            }
        }
        for (k, v) in self.add[PARSED].iter() {
            f(k, v);
        }
        if !self.err.is_empty() {
            f(ERROR_LABEL, &self.err);
        }
        if !self.err_details.is_empty() {
            f(ERROR_DETAILS_LABEL, &self.err_details);
        }
    }

    pub fn map(&self) -> HashMap<String, String> {
        self.unsorted().into_iter().collect()
    }

    /// True when no stage (nor metadata) changed the stream labels.
    pub fn is_unchanged(&self) -> bool {
        self.del.n == 0 && self.add.iter().all(|a| a.is_empty()) && self.err.is_empty() && self.err_details.is_empty()
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
            if k == ERROR_LABEL || k == ERROR_DETAILS_LABEL || self.add[PARSED].contains(k) {
                parsed.push((k.to_string(), v.to_string()));
            } else if self.add[META].contains(k) {
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

#[cfg(test)]
mod same_tests {
    #[test]
    fn same_and_short_ascii_agree_with_std() {
        let words =
            ["", "a", "b", "ab", "ba", "abc", "abd", "xbc", "abcd", "abce", "level", "levem", "status", "statuS"];
        let long = ["queue_name_x", "queue_name_y", "a_rather_long_label_name", "a_rather_long_label_namf"];
        let all: Vec<&str> = words.iter().chain(&long).copied().collect();
        for a in &all {
            for b in &all {
                assert_eq!(super::same(a, b), a == b, "{a:?} {b:?}");
            }
        }
        for n in 0..24 {
            for i in 0..n {
                let mut k = "k".repeat(n).into_bytes();
                assert!(super::short_ascii(&k));
                k[i] = 0xC3;
                assert!(!super::short_ascii(&k), "{n} {i}");
            }
        }
        // every single differing byte is seen, whatever the length
        for n in 1..40 {
            let a = "x".repeat(n);
            for i in 0..n {
                let mut b = a.clone().into_bytes();
                b[i] = b'y';
                assert!(!super::same(&a, std::str::from_utf8(&b).unwrap()), "{n} {i}");
            }
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
