//! Log pipelines: line filters, parsers, label filters, formatters, with Loki's label
//! categories (stream, structured metadata, parsed) and error labels.

use std::borrow::Cow;
use std::collections::HashMap;

use memchr::memmem;
use model::{Entry, Labels, MatchOp, Matcher};
use regex::Regex;

use crate::ast::{self, CmpOp, LabelFilter, LineFilterOp, NamedMatcher, Stage};
use crate::ip::IpMatcher;
use crate::json::{self, Kind};
use crate::parser::{ParseError, regex_err};
use crate::pattern::Pattern;
use crate::template::{Ctx, Template};
use crate::units;

pub const ERROR_LABEL: &str = "__error__";
pub const ERROR_DETAILS_LABEL: &str = "__error_details__";
const PRESERVE_ERROR_LABEL: &str = "__preserve_error__";
const ERR_JSON: &str = "JSONParserErr";
const ERR_LOGFMT: &str = "LogfmtParserErr";
const ERR_LABEL_FILTER: &str = "LabelFilterErr";
const ERR_TEMPLATE: &str = "TemplateFormatErr";
pub const ERR_SAMPLE_EXTRACTION: &str = "SampleExtractionErr";

const STREAM: usize = 0;
const META: usize = 1;
const PARSED: usize = 2;

/// Per-entry label state, mirroring Loki's `LabelsBuilder`.
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    /// Labels parsers should extract (Loki's parser hints); `None` = all.
    hints: Option<std::sync::Arc<Vec<String>>>,
    base: Vec<(String, String)>,
    del: Vec<String>,
    add: [Vec<(String, String)>; 3],
    extracted: Vec<String>,
    pub err: String,
    pub err_details: String,
}

fn contains(v: &[(String, String)], k: &str) -> bool {
    v.iter().any(|(n, _)| n == k)
}

impl LabelsBuilder {
    pub fn new(base: &Labels) -> Self {
        LabelsBuilder { base: base.as_slice().to_vec(), ..Default::default() }
    }

    pub fn reset(&mut self) {
        self.del.clear();
        for a in &mut self.add {
            a.clear();
        }
        self.extracted.clear();
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
        self.del.push(k.to_string());
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
            e.1 = v.to_string();
            return;
        }
        self.add[cat].push((k.to_string(), v.to_string()));
        if cat == PARSED {
            self.extracted.push(k.to_string());
        }
    }

    pub fn set_parsed(&mut self, k: &str, v: &str) {
        self.set(PARSED, k, v);
    }

    /// Whether parsers should extract `k` (parser hints).
    pub fn should_extract(&self, k: &str) -> bool {
        self.hints.as_ref().is_none_or(|h| h.iter().any(|x| x == k))
    }

    fn should_extract_prefix(&self, p: &str) -> bool {
        self.hints.as_ref().is_none_or(|h| h.iter().any(|x| x.starts_with(p)))
    }

    fn extracted(&self, k: &str) -> bool {
        self.extracted.iter().any(|e| e == k)
    }

    pub fn set_err(&mut self, e: &str, details: Option<&str>) {
        self.err = e.to_string();
        if let Some(d) = details {
            self.err_details = d.to_string();
        }
    }

    /// Parsed-key name with `_extracted` when it clashes with a stream label or metadata.
    fn parsed_key(&self, k: String) -> String {
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
pub fn sorted_labels(mut v: Vec<(String, String)>) -> Labels {
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

// ------------------------------------------------------------------------------ line filters

#[derive(Debug, Clone)]
enum LineMatcher {
    All,
    Literal(Box<memmem::Finder<'static>>),
    Regex(Regex),
    Pattern(Pattern),
    Ip(IpMatcher),
}

impl LineMatcher {
    fn matches(&self, line: &str) -> bool {
        match self {
            LineMatcher::All => true,
            LineMatcher::Literal(f) => f.find(line.as_bytes()).is_some(),
            LineMatcher::Regex(r) => r.is_match(line),
            LineMatcher::Pattern(p) => p.test(line),
            LineMatcher::Ip(m) => m.filter(line),
        }
    }
}

#[derive(Debug, Clone)]
struct LineFilterC {
    negate: bool,
    alts: Vec<LineMatcher>,
}

fn is_plain_literal(re: &str) -> bool {
    !re.chars().any(|c| "\\.+*?()|[]{}^$".contains(c))
}

fn compile_line_filter(lf: &ast::LineFilter) -> Result<LineFilterC, String> {
    let mut alts = Vec::new();
    for a in &lf.args {
        if a.ip {
            if !matches!(lf.op, LineFilterOp::Contains | LineFilterOp::NotContains) {
                return Err("ip: invalid operation".into());
            }
            alts.push(LineMatcher::Ip(IpMatcher::parse(&a.value)?));
            continue;
        }
        let m = match lf.op {
            LineFilterOp::Contains | LineFilterOp::NotContains => {
                if a.value.is_empty() {
                    LineMatcher::All
                } else {
                    LineMatcher::Literal(Box::new(memmem::Finder::new(a.value.as_bytes()).into_owned()))
                }
            }
            LineFilterOp::Match | LineFilterOp::NotMatch => {
                if a.value.is_empty() {
                    LineMatcher::All
                } else if is_plain_literal(&a.value) {
                    LineMatcher::Literal(Box::new(memmem::Finder::new(a.value.as_bytes()).into_owned()))
                } else {
                    LineMatcher::Regex(model::goregex::compile(&a.value).map_err(|e| regex_err(&a.value, &e))?)
                }
            }
            LineFilterOp::Pattern | LineFilterOp::NotPattern => {
                LineMatcher::Pattern(Pattern::parse_line_filter(&a.value)?)
            }
        };
        alts.push(m);
    }
    Ok(LineFilterC { negate: lf.op.is_negative(), alts })
}

impl LineFilterC {
    fn keep(&self, line: &str) -> bool {
        let any = self.alts.iter().any(|m| m.matches(line));
        any != self.negate
    }
}

// ------------------------------------------------------------------------------ label filters

#[derive(Debug, Clone)]
enum LabelFilterC {
    Matcher(Matcher),
    /// A regex matcher Loki's simplifier turned into literal tests.
    Simple {
        name: String,
        filter: SimpleFilter,
        negate: bool,
    },
    Number {
        name: String,
        op: CmpOp,
        value: f64,
    },
    Duration {
        name: String,
        op: CmpOp,
        value: i64,
    },
    Bytes {
        name: String,
        op: CmpOp,
        value: u64,
    },
    Ip {
        name: String,
        negate: bool,
        m: IpMatcher,
    },
    And(Box<LabelFilterC>, Box<LabelFilterC>),
    Or(Box<LabelFilterC>, Box<LabelFilterC>),
}

fn compile_label_filter(f: &LabelFilter) -> Result<LabelFilterC, String> {
    Ok(match f {
        LabelFilter::Matcher(m) if matches!(m.op, MatchOp::Re | MatchOp::Nre) => match simplify_label_regex(&m.value) {
            Some(filter) => LabelFilterC::Simple { name: m.name.clone(), filter, negate: m.op == MatchOp::Nre },
            None => LabelFilterC::Matcher(m.clone()),
        },
        LabelFilter::Matcher(m) => LabelFilterC::Matcher(m.clone()),
        LabelFilter::Number { name, op, value } => LabelFilterC::Number { name: name.clone(), op: *op, value: *value },
        LabelFilter::Duration { name, op, value } => {
            LabelFilterC::Duration { name: name.clone(), op: *op, value: *value }
        }
        LabelFilter::Bytes { name, op, value } => LabelFilterC::Bytes { name: name.clone(), op: *op, value: *value },
        LabelFilter::Ip { name, negate, pattern } => {
            LabelFilterC::Ip { name: name.clone(), negate: *negate, m: IpMatcher::parse(pattern)? }
        }
        LabelFilter::And(a, b) => {
            LabelFilterC::And(Box::new(compile_label_filter(a)?), Box::new(compile_label_filter(b)?))
        }
        LabelFilter::Or(a, b) => {
            LabelFilterC::Or(Box::new(compile_label_filter(a)?), Box::new(compile_label_filter(b)?))
        }
    })
}

/// What Loki's regex simplifier makes of common label-filter regexes. Note the quirk it keeps:
/// `foo.*`, `.*foo` and `.*foo.*` all become an unanchored "contains foo".
#[derive(Debug, Clone)]
pub(crate) enum SimpleFilter {
    True,
    Exists,
    Equal(String, bool),
    Contains(String, bool),
    Or(Vec<SimpleFilter>),
}

impl SimpleFilter {
    fn matches(&self, v: &str) -> bool {
        match self {
            SimpleFilter::True => true,
            SimpleFilter::Exists => !v.is_empty(),
            SimpleFilter::Equal(l, false) => v == l,
            SimpleFilter::Equal(l, true) => v.to_lowercase() == l.to_lowercase(),
            SimpleFilter::Contains(l, false) => v.contains(l.as_str()),
            SimpleFilter::Contains(l, true) => v.to_lowercase().contains(&l.to_lowercase()),
            SimpleFilter::Or(fs) => fs.iter().any(|f| f.matches(v)),
        }
    }
}

/// A regex literal: plain characters and escaped punctuation, unescaped.
fn regex_literal(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                let n = it.next()?;
                if n.is_ascii_alphanumeric() || !n.is_ascii() {
                    return None;
                }
                out.push(n);
            }
            c if "\\.+*?()|[]{}^$".contains(c) => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

fn simplify_branch(b: &str, ci: bool) -> Option<SimpleFilter> {
    match b {
        "" | ".*" => return Some(SimpleFilter::True),
        ".+" => return Some(SimpleFilter::Exists),
        _ => {}
    }
    let (lead, b) = match b.strip_prefix(".*") {
        Some(r) => (true, r),
        None => (false, b),
    };
    let (trail, b) = match b.strip_suffix(".*") {
        Some(r) if !r.ends_with('\\') => (true, r),
        _ => (false, b),
    };
    let lit = regex_literal(b)?;
    if lit.is_empty() {
        return None;
    }
    Some(if lead || trail { SimpleFilter::Contains(lit, ci) } else { SimpleFilter::Equal(lit, ci) })
}

pub(crate) fn simplify_label_regex(re: &str) -> Option<SimpleFilter> {
    let (ci, body) = match re.strip_prefix("(?i)") {
        Some(r) => (true, r),
        None => (false, re),
    };
    if body.contains("(?") {
        return None;
    }
    let mut branches = Vec::new();
    let (mut depth, mut start, mut esc) = (0i32, 0usize, false);
    for (i, c) in body.char_indices() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' => esc = true,
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            '|' if depth == 0 => {
                branches.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    branches.push(&body[start..]);
    if branches.len() == 1 {
        return simplify_branch(branches[0], ci);
    }
    // Go factors common prefixes out of alternations of literals, which changes how they
    // simplify; only keep the unambiguous case of literals without a shared first character.
    let mut out = Vec::new();
    let mut firsts = Vec::new();
    for b in branches {
        let f = simplify_branch(b, ci)?;
        if !matches!(f, SimpleFilter::Equal(..)) {
            return None;
        }
        let first = b.chars().next()?;
        if firsts.contains(&first) {
            return None;
        }
        firsts.push(first);
        out.push(f);
    }
    Some(SimpleFilter::Or(out))
}

fn conv_err(lbs: &mut LabelsBuilder, e: String) -> bool {
    if lbs.err.is_empty() {
        lbs.err = ERR_LABEL_FILTER.into();
        lbs.err_details = e;
    }
    true
}

impl LabelFilterC {
    fn keep(&self, lbs: &mut LabelsBuilder) -> bool {
        match self {
            LabelFilterC::Matcher(m) => m.matches(lbs.value_of(&m.name)),
            LabelFilterC::Simple { name, filter, negate } => filter.matches(lbs.value_of(name)) != *negate,
            LabelFilterC::Number { name, op, value } => {
                let Some(v) = lbs.get(name) else { return false };
                match units::parse_go_float(v) {
                    Ok(x) => op.cmp_f64(x, *value),
                    Err(e) => conv_err(lbs, e),
                }
            }
            LabelFilterC::Duration { name, op, value } => {
                let Some(v) = lbs.get(name) else { return false };
                match units::parse_go_duration(v) {
                    Ok(x) => op.cmp_f64(x as f64, *value as f64),
                    Err(e) => conv_err(lbs, e),
                }
            }
            LabelFilterC::Bytes { name, op, value } => {
                let Some(v) = lbs.get(name) else { return false };
                match units::parse_bytes(v) {
                    Ok(x) => op.cmp_f64(x as f64, *value as f64),
                    Err(e) => conv_err(lbs, e),
                }
            }
            LabelFilterC::Ip { name, negate, m } => {
                if !lbs.err.is_empty() {
                    return true;
                }
                let Some(v) = lbs.get(name) else { return false };
                m.filter(v) != *negate
            }
            LabelFilterC::And(a, b) => {
                let l = a.keep(lbs);
                let r = b.keep(lbs);
                l && r
            }
            LabelFilterC::Or(a, b) => {
                if a.keep(lbs) {
                    return true;
                }
                b.keep(lbs)
            }
        }
    }
}

// ------------------------------------------------------------------------------ parsers

/// `| regexp` parser.
#[derive(Debug, Clone)]
pub struct RegexpParser {
    re: Regex,
    names: Vec<Option<String>>,
}

fn valid_label_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic() || x == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

impl RegexpParser {
    pub fn new(re: &str) -> Result<RegexpParser, String> {
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

/// `sanitize_key(k, true)` without allocating when the key is already a valid name.
fn sanitize_key_cow(k: &str) -> Cow<'_, str> {
    let b = k.as_bytes();
    if !b.is_empty() && !b[0].is_ascii_digit() && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_') {
        Cow::Borrowed(k)
    } else {
        Cow::Owned(sanitize_key(k, true))
    }
}

/// Loki's `sanitizeLabelKey`.
pub fn sanitize_key(key: &str, is_prefix: bool) -> String {
    let key = key.trim();
    if key.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(key.len() + 1);
    if is_prefix && key.as_bytes()[0].is_ascii_digit() {
        out.push('_');
    }
    for c in key.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

fn json_value(kind: Kind, raw: &str) -> String {
    match kind {
        Kind::String => {
            let v = json::unescape_cow(raw).unwrap_or_default();
            if v.contains('\u{FFFD}') { v.replace('\u{FFFD}', " ") } else { v.into_owned() }
        }
        Kind::Null => String::new(),
        _ => raw.to_string(),
    }
}

/// Joins sanitized key parts with `_`, skipping parts that are blank (Loki's prefix buffer).
fn join_sanitized(parts: &[&str]) -> String {
    let mut out = String::new();
    for p in parts {
        let k = p.trim();
        if k.is_empty() {
            continue;
        }
        if out.is_empty() {
            if k.as_bytes()[0].is_ascii_digit() {
                out.push('_');
            }
        } else {
            out.push('_');
        }
        for c in k.chars() {
            out.push(if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' });
        }
    }
    out
}

fn json_flatten(lbs: &mut LabelsBuilder, obj: &str, prefix: &mut Vec<String>) -> Result<(), String> {
    let mut members = Vec::new();
    json::object_each(obj, |k, kind, v| members.push((k, kind, v)))?;
    for (k, kind, v) in members {
        let key = json::unescape_cow(k).unwrap_or_default();
        match kind {
            Kind::Object => {
                prefix.push(key.into_owned());
                let parts: Vec<&str> = prefix.iter().map(String::as_str).collect();
                // (the member was validated while scanning the parent object)
                if lbs.should_extract_prefix(&join_sanitized(&parts)) {
                    json_flatten(lbs, v, prefix)?;
                }
                prefix.pop();
            }
            Kind::String | Kind::Number | Kind::Bool => {
                let name = if prefix.is_empty() {
                    let k = sanitize_key_cow(&key);
                    if k.is_empty() {
                        continue;
                    }
                    if lbs.base_has(&k) || lbs.has_in(META, &k) { Cow::Owned(format!("{k}_extracted")) } else { k }
                } else {
                    let mut parts: Vec<&str> = prefix.iter().map(String::as_str).collect();
                    parts.push(&key);
                    let name = join_sanitized(&parts);
                    if lbs.base_has(&name) || lbs.has_in(META, &name) {
                        let last = format!("{key}_extracted");
                        parts.pop();
                        parts.push(&last);
                        Cow::Owned(join_sanitized(&parts))
                    } else {
                        Cow::Owned(name)
                    }
                };
                if name.is_empty() || lbs.extracted(&name) || !lbs.should_extract(&name) {
                    continue;
                }
                lbs.set_parsed(&name, &json_value(kind, v));
            }
            _ => {}
        }
    }
    Ok(())
}

fn has_rune_error(k: &[u8]) -> bool {
    k.windows(3).any(|w| w == "\u{FFFD}".as_bytes())
}

/// The logfmt decoder (go-logfmt semantics as vendored by Loki).
struct Logfmt<'a> {
    line: &'a [u8],
    pos: usize,
    key: Option<&'a [u8]>,
    value: Option<std::borrow::Cow<'a, [u8]>>,
    err: Option<String>,
}

impl<'a> Logfmt<'a> {
    fn new(line: &'a str) -> Self {
        Logfmt { line: line.as_bytes(), pos: 0, key: None, value: None, err: None }
    }
    fn eol(&self) -> bool {
        self.pos >= self.line.len()
    }
    fn syntax(&mut self, msg: String) {
        self.err = Some(format!("logfmt syntax error at pos {} : {}", self.pos + 1, msg));
    }
    fn skip_value(&mut self) -> bool {
        while self.pos < self.line.len() {
            if self.line[self.pos] <= b' ' {
                return false;
            }
            self.pos += 1;
        }
        false
    }
    fn scan(&mut self) -> bool {
        self.key = None;
        self.value = None;
        let line = self.line;
        while self.pos < line.len() && line[self.pos] <= b' ' {
            self.pos += 1;
        }
        if self.pos >= line.len() {
            return false;
        }
        let start = self.pos;
        loop {
            if self.pos >= line.len() {
                if self.pos > start {
                    self.key = Some(&line[start..self.pos]);
                    if self.key.is_some_and(has_rune_error) {
                        self.syntax("invalid key".into());
                        return false;
                    }
                }
                return true;
            }
            let c = line[self.pos];
            if c == b'=' {
                if self.pos > start {
                    self.key = Some(&line[start..self.pos]);
                    if self.key.is_some_and(has_rune_error) {
                        self.syntax("invalid key".into());
                        return self.skip_value();
                    }
                }
                if self.key.is_none() {
                    self.syntax("unexpected '='".into());
                    return self.skip_value();
                }
                break;
            } else if c == b'"' {
                self.syntax("unexpected '\"'".into());
                return self.skip_value();
            } else if c <= b' ' {
                if self.pos > start {
                    self.key = Some(&line[start..self.pos]);
                    if self.key.is_some_and(has_rune_error) {
                        self.syntax("invalid key".into());
                        return false;
                    }
                }
                return true;
            }
            self.pos += 1;
        }
        // equal
        self.pos += 1;
        if self.pos >= line.len() {
            return true;
        }
        let c = line[self.pos];
        if c <= b' ' {
            return true;
        }
        if c == b'"' {
            let start = self.pos;
            let mut esc = false;
            let mut has_esc = false;
            let mut p = self.pos + 1;
            while p < line.len() {
                let c = line[p];
                if esc {
                    esc = false;
                } else if c == b'\\' {
                    esc = true;
                    has_esc = true;
                } else if c == b'"' {
                    self.pos = p + 1;
                    if has_esc {
                        let raw = std::str::from_utf8(&line[start..self.pos]).unwrap_or("\"\"");
                        match json::unescape(raw) {
                            Some(v) => self.value = Some(std::borrow::Cow::Owned(v.into_bytes())),
                            None => {
                                self.syntax("invalid quoted value".into());
                                return false;
                            }
                        }
                    } else if self.pos - 1 > start + 1 {
                        self.value = Some(std::borrow::Cow::Borrowed(&line[start + 1..self.pos - 1]));
                    }
                    return true;
                }
                p += 1;
            }
            self.pos = line.len();
            self.syntax("unterminated quoted value".into());
            return false;
        }
        let start = self.pos;
        while self.pos < line.len() {
            let c = line[self.pos];
            if c == b'=' || c == b'"' {
                self.syntax(format!("unexpected '{}'", c as char));
                return self.skip_value();
            }
            if c <= b' ' {
                break;
            }
            self.pos += 1;
        }
        if self.pos > start {
            self.value = Some(std::borrow::Cow::Borrowed(&line[start..self.pos]));
        }
        true
    }
}

fn logfmt_process(
    lbs: &mut LabelsBuilder,
    line: &str,
    strict: bool,
    keep_empty: bool,
    only: Option<&[(String, String)]>,
) {
    if let Some(exprs) = only {
        return logfmt_expressions(lbs, line, strict, exprs);
    }
    let mut dec = Logfmt::new(line);
    while !dec.eol() {
        if !dec.scan() {
            if strict {
                break;
            }
            continue;
        }
        let Some(k) = dec.key else { continue };
        let key_s = String::from_utf8_lossy(k);
        let val = || -> Cow<'_, str> {
            match dec.value.as_deref() {
                None => Cow::Borrowed(""),
                Some(v) => match String::from_utf8_lossy(v) {
                    Cow::Borrowed(b) if !b.contains('\u{FFFD}') => Cow::Borrowed(b),
                    c => Cow::Owned(c.replace('\u{FFFD}', " ")),
                },
            }
        };
        let key = sanitize_key_cow(&key_s);
        if key.is_empty() {
            continue;
        }
        let key =
            if lbs.base_has(&key) || lbs.has_in(META, &key) { Cow::Owned(format!("{key}_extracted")) } else { key };
        if lbs.extracted(&key) || !lbs.should_extract(&key) {
            continue;
        }
        let v = val();
        if !keep_empty && v.is_empty() {
            continue;
        }
        lbs.set_parsed(&key, &v);
    }
    if strict && let Some(e) = dec.err {
        lbs.set_err(ERR_LOGFMT, Some(&e));
    }
}

/// `| logfmt id="key", ...` with Loki's rules: every label starts out empty, a line key equal
/// to an expression's key or to its label name sets the label, later occurrences win.
fn logfmt_expressions(lbs: &mut LabelsBuilder, line: &str, strict: bool, exprs: &[(String, String)]) {
    for (id, _) in exprs {
        if !lbs.base_has(id) && !lbs.has_in(META, id) {
            lbs.set_parsed(id, "");
        }
    }
    let mut dec = Logfmt::new(line);
    while !dec.eol() {
        if !dec.scan() {
            if strict {
                break;
            }
            continue;
        }
        let Some(k) = dec.key else { continue };
        let key = sanitize_key(&String::from_utf8_lossy(k), true);
        if key.is_empty() {
            continue;
        }
        let always = exprs.iter().any(|(id, _)| *id == key);
        if !always && (!lbs.should_extract(&key) || lbs.extracted(&key)) {
            continue;
        }
        let val = match dec.value.as_deref() {
            Some(v) => match std::str::from_utf8(v) {
                Ok(s) if !s.contains('\u{FFFD}') => s.to_string(),
                _ => String::new(),
            },
            None => String::new(),
        };
        let mut key = exprs.iter().find(|(_, path)| *path == key).map(|(id, _)| id.clone()).unwrap_or(key);
        if exprs.iter().any(|(id, _)| *id == key) {
            if lbs.base_has(&key) || lbs.has_in(META, &key) {
                key.push_str("_extracted");
                if lbs.extracted(&key) || !lbs.should_extract(&key) {
                    break;
                }
            }
            lbs.set_parsed(&key, &val);
        }
    }
    if strict && let Some(e) = dec.err {
        lbs.set_err(ERR_LOGFMT, Some(&e));
    }
}

// ------------------------------------------------------------------------------ stages

#[derive(Debug, Clone)]
enum StageC {
    LineFilter(LineFilterC),
    Json,
    JsonExpr(Vec<(String, Vec<json::PathPart>)>),
    Logfmt { strict: bool, keep_empty: bool },
    LogfmtExpr { strict: bool, keep_empty: bool, exprs: Vec<(String, String)> },
    Regexp(RegexpParser),
    Pattern(Pattern),
    Unpack,
    LabelFilter(LabelFilterC),
    LineFormat(Template),
    LabelFormat(Vec<(String, Result<Template, String>)>),
    Decolorize,
    Drop(Vec<NamedMatcher>),
    Keep(Vec<NamedMatcher>),
}

fn stage_err(s: &Stage, e: impl std::fmt::Display) -> ParseError {
    ParseError::new(format!("stage '{s}' : {e}"))
}

fn compile_stage(s: &Stage) -> Result<StageC, ParseError> {
    Ok(match s {
        Stage::LineFilter(lf) => StageC::LineFilter(compile_line_filter(lf).map_err(|e| stage_err(s, e))?),
        Stage::Json => StageC::Json,
        Stage::JsonExpr(exprs) => {
            let mut out = Vec::new();
            for (id, e) in exprs {
                if !valid_label_name(id) {
                    return Err(stage_err(s, format!("invalid extracted label name '{id}'")));
                }
                out.push((id.clone(), json::parse_path(e).map_err(|e| stage_err(s, e))?));
            }
            StageC::JsonExpr(out)
        }
        Stage::Logfmt { strict, keep_empty } => StageC::Logfmt { strict: *strict, keep_empty: *keep_empty },
        Stage::LogfmtExpr { strict, keep_empty, exprs } => {
            for (id, path) in exprs {
                if !valid_label_name(id) {
                    return Err(stage_err(s, format!("invalid extracted label name '{id}'")));
                }
                if path.is_empty() || path.contains(|c: char| c.is_whitespace() || c == '=' || c == '"') {
                    return Err(stage_err(
                        s,
                        format!("cannot parse expression [{path}]: syntax error: unexpected KEY"),
                    ));
                }
            }
            StageC::LogfmtExpr { strict: *strict, keep_empty: *keep_empty, exprs: exprs.clone() }
        }
        Stage::Regexp(r) => StageC::Regexp(RegexpParser::new(r).map_err(|e| stage_err(s, e))?),
        Stage::Pattern(p) => StageC::Pattern(Pattern::parse(p).map_err(|e| stage_err(s, e))?),
        Stage::Unpack => StageC::Unpack,
        Stage::LabelFilter(f) => StageC::LabelFilter(compile_label_filter(f).map_err(|e| stage_err(s, e))?),
        Stage::LineFormat(t) => StageC::LineFormat(
            Template::parse_named(t, "line").map_err(|e| stage_err(s, format!("invalid line template: {e}")))?,
        ),
        Stage::LabelFormat(fmts) => {
            let mut seen: Vec<&str> = Vec::new();
            let mut out = Vec::new();
            for f in fmts {
                if f.name == ERROR_LABEL {
                    return Err(stage_err(s, format!("{ERROR_LABEL} cannot be formatted")));
                }
                if seen.contains(&f.name.as_str()) {
                    return Err(stage_err(
                        s,
                        format!("multiple label name '{}' not allowed in a single format operation", f.name),
                    ));
                }
                seen.push(&f.name);
                if f.rename {
                    out.push((f.name.clone(), Err(f.value.clone())));
                } else {
                    let t = Template::parse_named(&f.value, "label")
                        .map_err(|e| stage_err(s, format!("invalid template for label '{}': {e}", f.name)))?;
                    out.push((f.name.clone(), Ok(t)));
                }
            }
            StageC::LabelFormat(out)
        }
        Stage::Decolorize => StageC::Decolorize,
        Stage::Drop(v) => StageC::Drop(v.clone()),
        Stage::Keep(v) => StageC::Keep(v.clone()),
    })
}

/// Strips ANSI escape sequences with the pattern Loki uses (from the stripansi package).
fn decolorize(s: &str) -> String {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        model::goregex::compile(
            "[\u{1b}\u{9b}][\\[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[a-zA-Z\\d]*)*)?\u{7})|(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PRZcf-ntqry=><~]))",
        )
        .expect("ANSI pattern")
    });
    re.replace_all(s, "").into_owned()
}

fn is_special(k: &str) -> bool {
    k == ERROR_LABEL || k == ERROR_DETAILS_LABEL || k == PRESERVE_ERROR_LABEL
}

impl StageC {
    /// Runs the stage; `false` drops the entry.
    fn process(&self, ts: i64, line: &mut Cow<'_, str>, lbs: &mut LabelsBuilder) -> bool {
        match self {
            StageC::LineFilter(f) => f.keep(line),
            StageC::Json => {
                let mut prefix = Vec::new();
                if let Err(e) = json_flatten(lbs, line, &mut prefix) {
                    lbs.set_err(ERR_JSON, Some(&e));
                }
                true
            }
            StageC::JsonExpr(exprs) => {
                if line.is_empty() {
                    return true;
                }
                let t = line.trim_start();
                if !(t.starts_with('{') || t.starts_with('[') || t.starts_with('"')) {
                    lbs.set_err(ERR_JSON, None);
                    return true;
                }
                if let Err(e) = json::Scanner::new(line).value() {
                    lbs.set_err(ERR_JSON, Some(&e));
                    return true;
                }
                for (id, path) in exprs {
                    let v = match json::get_path(line, path) {
                        Ok(Some((k, raw))) => json_value(k, raw),
                        Ok(None) => String::new(),
                        Err(e) => {
                            lbs.set_err(ERR_JSON, Some(&e));
                            return true;
                        }
                    };
                    let k = lbs.parsed_key(id.clone());
                    lbs.set_parsed(&k, &v);
                }
                true
            }
            StageC::Logfmt { strict, keep_empty } => {
                logfmt_process(lbs, line, *strict, *keep_empty, None);
                true
            }
            StageC::LogfmtExpr { strict, keep_empty, exprs } => {
                logfmt_process(lbs, line, *strict, *keep_empty, Some(exprs));
                true
            }
            StageC::Regexp(r) => {
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
                true
            }
            StageC::Pattern(p) => {
                if let Some(caps) = p.matches(line) {
                    let caps: Vec<String> = caps.into_iter().map(str::to_string).collect();
                    for (n, v) in p.names().iter().zip(caps) {
                        let k = lbs.parsed_key(n.clone());
                        if lbs.extracted(&k) || !lbs.should_extract(&k) {
                            continue;
                        }
                        lbs.set_parsed(&k, &v);
                    }
                }
                true
            }
            StageC::Unpack => {
                if line.is_empty() {
                    return true;
                }
                if !line.starts_with('{') {
                    lbs.set_err(ERR_JSON, Some("expecting json object(6), but it is not"));
                    return true;
                }
                let mut entry: Option<String> = None;
                let mut pairs: Vec<(String, String)> = Vec::new();
                let res = json::object_each(line, |k, kind, v| {
                    if kind != Kind::String {
                        return;
                    }
                    let key = json::unescape(k).unwrap_or_default();
                    if key == "_entry" {
                        entry = Some(json::unescape(v).unwrap_or_default());
                        return;
                    }
                    pairs.push((key, json_value(Kind::String, v)));
                });
                if let Err(e) = res {
                    lbs.set_err(ERR_JSON, Some(&e));
                    return true;
                }
                if let Some(e) = entry {
                    for (k, v) in pairs {
                        let k = lbs.parsed_key(k);
                        if lbs.extracted(&k) {
                            continue;
                        }
                        lbs.set_parsed(&sanitize_key(&k, true), &v);
                    }
                    *line = Cow::Owned(e);
                }
                true
            }
            StageC::LabelFilter(f) => f.keep(lbs),
            StageC::LineFormat(t) => {
                let m = lbs.map();
                match t.execute(&Ctx { labels: &m, line, ts }) {
                    Ok(s) => *line = Cow::Owned(s),
                    Err(e) => lbs.set_err(ERR_TEMPLATE, Some(&e)),
                }
                true
            }
            StageC::LabelFormat(fmts) => {
                let m = lbs.map();
                for (name, f) in fmts {
                    match f {
                        Err(src) => {
                            if let Some(v) = lbs.get(src).map(str::to_string) {
                                lbs.set_parsed(name, &v);
                                lbs.del(src);
                            }
                        }
                        Ok(t) => match t.execute(&Ctx { labels: &m, line, ts }) {
                            Ok(v) => lbs.set_parsed(name, &v),
                            Err(e) => lbs.set_err(ERR_TEMPLATE, Some(&e)),
                        },
                    }
                }
                true
            }
            StageC::Decolorize => {
                if line.contains(['\u{1b}', '\u{9b}']) {
                    *line = Cow::Owned(decolorize(line));
                }
                true
            }
            StageC::Drop(ms) => {
                for nm in ms {
                    match &nm.matcher {
                        None => match nm.name.as_str() {
                            ERROR_LABEL => lbs.err.clear(),
                            ERROR_DETAILS_LABEL => lbs.err_details.clear(),
                            n => lbs.del(n),
                        },
                        Some(m) => match m.name.as_str() {
                            ERROR_LABEL => {
                                if m.matches(&lbs.err) {
                                    lbs.err.clear();
                                }
                            }
                            ERROR_DETAILS_LABEL => {
                                if m.matches(&lbs.err_details) {
                                    lbs.err_details.clear();
                                }
                            }
                            n => {
                                if let Some(v) = lbs.get(n)
                                    && m.matches(v)
                                {
                                    lbs.del(n);
                                }
                            }
                        },
                    }
                }
                true
            }
            StageC::Keep(ms) => {
                for (k, v) in lbs.unsorted() {
                    if is_special(&k) {
                        continue;
                    }
                    let keep = ms.iter().any(|nm| match &nm.matcher {
                        Some(m) => m.name == k && m.matches(&v),
                        None => nm.name == k,
                    });
                    if !keep {
                        lbs.del(&k);
                    }
                }
                true
            }
        }
    }
}

/// Loki hoists line filters in front of every stage except label filters, `line_format` and
/// `unpack`.
fn reorder(stages: &[Stage]) -> Vec<Stage> {
    let mut out: Vec<Stage> = Vec::with_capacity(stages.len());
    for s in stages {
        if let Stage::LineFilter(_) = s {
            let pos = out
                .iter()
                .rposition(|x| {
                    matches!(x, Stage::LineFilter(_) | Stage::LabelFilter(_) | Stage::LineFormat(_) | Stage::Unpack)
                })
                .map(|p| p + 1)
                .unwrap_or(0);
            out.insert(pos, s.clone());
        } else {
            out.push(s.clone());
        }
    }
    out
}

/// The key/value pairs of a logfmt line, decoded as `| logfmt` decodes them (quoted values
/// unescaped, invalid UTF-8 replaced), keys as written. Pairs with a syntax error are skipped.
pub fn logfmt_pairs(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dec = Logfmt::new(line);
    while !dec.eol() {
        if !dec.scan() {
            continue;
        }
        let Some(k) = dec.key else { continue };
        let v = dec.value.as_deref().map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
        out.push((String::from_utf8_lossy(k).into_owned(), v));
    }
    out
}

/// A compiled log pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    hints: Option<std::sync::Arc<Vec<String>>>,
    stages: Vec<StageC>,
    builder: LabelsBuilder,
    builder_for: Option<Labels>,
}

impl Pipeline {
    pub fn new(stages: &[Stage]) -> Result<Pipeline, ParseError> {
        let stages = reorder(stages).iter().map(compile_stage).collect::<Result<Vec<_>, _>>()?;
        Ok(Pipeline { hints: None, stages, builder: LabelsBuilder::default(), builder_for: None })
    }

    /// Restricts parsers to the given label names (Loki's parser hints).
    pub fn with_hints(mut self, hints: Option<Vec<String>>) -> Self {
        self.hints = hints.map(std::sync::Arc::new);
        self.builder_for = None;
        self
    }

    pub fn is_noop(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs stages; leaves the final state in the builder. Returns the line when kept.
    pub fn run<'e>(&mut self, stream: &Labels, entry: &'e Entry) -> Option<Cow<'e, str>> {
        if self.builder_for.as_ref() != Some(stream) {
            self.builder = LabelsBuilder::new(stream);
            self.builder.hints = self.hints.clone();
            self.builder_for = Some(stream.clone());
        }
        self.builder.reset();
        self.builder.add_metadata(&entry.metadata);
        let mut line = Cow::Borrowed(entry.line.as_str());
        for s in &self.stages {
            if !s.process(entry.ts, &mut line, &mut self.builder) {
                return None;
            }
        }
        Some(line)
    }

    /// Runs the stages against an existing builder state (unwrap post-filters).
    pub fn run_on_builder(&self, b: &mut LabelsBuilder) -> bool {
        let mut line = Cow::Borrowed("");
        self.stages.iter().all(|s| s.process(0, &mut line, b))
    }

    pub fn builder(&self) -> &LabelsBuilder {
        &self.builder
    }

    pub fn builder_mut(&mut self) -> &mut LabelsBuilder {
        &mut self.builder
    }

    /// Processes one entry of a stream (also used by live tail).
    pub fn process(&mut self, stream: &Labels, entry: &Entry) -> Option<LogEntryOut> {
        let line = self.run(stream, entry)?.into_owned();
        let r = self.builder.result();
        Some(LogEntryOut {
            ts: entry.ts,
            line,
            labels: r.all,
            stream: r.stream,
            metadata: r.metadata,
            parsed: r.parsed,
        })
    }
}

/// Case-sensitive substrings every kept line contains: the positive `|=` filters at the head of
/// the pipeline (before any stage that changes the line).
pub fn required_substrings(stages: &[Stage]) -> Vec<String> {
    let mut out = Vec::new();
    for s in reorder(stages) {
        match s {
            Stage::LineFilter(lf) => {
                if lf.op == LineFilterOp::Contains
                    && lf.args.len() == 1
                    && !lf.args[0].ip
                    && !lf.args[0].value.is_empty()
                {
                    out.push(lf.args[0].value.clone());
                }
            }
            _ => break,
        }
    }
    out
}

/// Matchers are re-exported for convenience.
pub fn matcher(name: &str, op: MatchOp, value: &str) -> Option<Matcher> {
    Matcher::new(name, op, value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn run(q: &str, stream: &[(&str, &str)], line: &str, md: &[(&str, &str)]) -> Option<LogEntryOut> {
        let e = parse(q).unwrap();
        let crate::ast::Expr::Log(l) = e else { panic!() };
        let mut p = Pipeline::new(&l.stages).unwrap();
        let s = Labels::from_pairs(stream.iter().copied()).unwrap();
        let entry = Entry {
            ts: 1,
            line: line.into(),
            metadata: md.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        p.process(&s, &entry)
    }

    #[test]
    fn json_and_logfmt() {
        let o = run(r#"{a="b"} | json"#, &[("a", "b")], r#"{"x":{"y":1},"arr":[1],"n":null,"a":"p"}"#, &[]).unwrap();
        assert_eq!(o.labels.to_string(), r#"{a="b", a_extracted="p", x_y="1"}"#);
        let o =
            run(r#"{a="b"} | logfmt"#, &[("a", "b")], "a-b=1 9x=2 dup=first dup=second msg=\"hi there\" empty=", &[])
                .unwrap();
        assert_eq!(o.labels.to_string(), r#"{_9x="2", a="b", a_b="1", dup="first", msg="hi there"}"#);
        let o = run(r#"{a="b"} | logfmt --strict"#, &[("a", "b")], "good=1 bad=\"x", &[]).unwrap();
        assert_eq!(o.labels.get("__error__"), Some("LogfmtParserErr"));
        let o = run(r#"{a="b"} | json"#, &[("a", "b")], "broken", &[]).unwrap();
        assert_eq!(o.labels.get("__error__"), Some("JSONParserErr"));
    }

    #[test]
    fn precedence_of_categories() {
        let o = run(
            r#"{app="a"} | logfmt"#,
            &[("app", "a"), ("sl", "s"), ("sm", "s"), ("tri", "s")],
            "sl=p md=p tri=p",
            &[("md", "m"), ("sm", "m"), ("tri", "m")],
        )
        .unwrap();
        assert_eq!(
            o.labels.to_string(),
            r#"{app="a", md="m", md_extracted="p", sl="s", sl_extracted="p", sm="s", sm_extracted="m", tri="s", tri_extracted="p"}"#
        );
    }

    #[test]
    fn filters_and_formats() {
        assert!(run(r#"{a="b"} |= "x" != "y""#, &[("a", "b")], "axb", &[]).is_some());
        assert!(run(r#"{a="b"} |= "x" != "y""#, &[("a", "b")], "axy", &[]).is_none());
        assert!(run(r#"{a="b"} |~ "(?i)X""#, &[("a", "b")], "axb", &[]).is_some());
        let o = run(r#"{a="b"} | logfmt | took > 1s"#, &[("a", "b")], "took=5", &[]).unwrap();
        assert_eq!(o.labels.get("__error__"), Some("LabelFilterErr"));
        let o = run(r#"{a="b"} | line_format "L={{.a}}""#, &[("a", "b")], "x", &[]).unwrap();
        assert_eq!(o.line, "L=b");
        let o = run(r#"{a="b", m="get"} | label_format verb=m"#, &[("a", "b"), ("m", "get")], "x", &[]).unwrap();
        assert_eq!(o.labels.to_string(), r#"{a="b", verb="get"}"#);
        let o = run(r#"{a="b"} | keep c"#, &[("a", "b"), ("c", "d")], "x", &[]).unwrap();
        assert_eq!(o.labels.to_string(), r#"{c="d"}"#);
        let o = run(r#"{a="b"} | unpack"#, &[("a", "b")], r#"{"l":"i","_entry":"msg"}"#, &[]).unwrap();
        assert_eq!(o.line, "msg");
        assert_eq!(o.parsed, vec![("l".to_string(), "i".to_string())]);
    }
}

#[cfg(test)]
mod parser_cases {
    use super::*;

    fn run_stage(stage: Stage, stream: &[(&str, &str)], md: &[(&str, &str)], line: &str) -> (String, String) {
        let mut p = Pipeline::new(&[stage]).unwrap();
        let s = Labels::from_pairs(stream.iter().copied()).unwrap();
        let mut e = Entry::new(0, line);
        e.metadata = md.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let o = p.process(&s, &e).unwrap();
        (o.labels.to_string(), o.line)
    }

    fn json(stream: &[(&str, &str)], line: &str) -> String {
        run_stage(Stage::Json, stream, &[], line).0
    }

    fn logfmt(strict: bool, stream: &[(&str, &str)], line: &str) -> String {
        run_stage(Stage::Logfmt { strict, keep_empty: false }, stream, &[], line).0
    }

    #[test]
    fn json_parser() {
        assert_eq!(
            json(&[], r#"{"app":"foo","namespace":"prod","pod":{"uuid":"foo","deployment":{"ref":"foobar"}}}"#),
            r#"{app="foo", namespace="prod", pod_deployment_ref="foobar", pod_uuid="foo"}"#
        );
        assert_eq!(
            json(&[("app", "foo"), ("pod_uuid", "foo")], r#"{"app":"bar","pod":{"uuid":"bar"}}"#),
            r#"{app="foo", app_extracted="bar", pod_uuid="foo", pod_uuid_extracted="bar"}"#
        );
        assert_eq!(
            json(&[], r#"{"counter":1, "price": {"_net_":5.56909}}"#),
            r#"{counter="1", price__net_="5.56909"}"#
        );
        assert_eq!(json(&[], r#"{" ": {"foo":"bar"}}"#), r#"{foo="bar"}"#);
        assert_eq!(json(&[], r#"{"counter":1,"foo":"foo\\\"bar"}"#), r#"{counter="1", foo="foo\\\"bar"}"#);
        assert_eq!(json(&[], r#"{"counter":1, "price": {"net_":["10","20"]}}"#), r#"{counter="1"}"#);
        assert_eq!(json(&[], r#"{"cou-nter":1}"#), r#"{cou_nter="1"}"#);
        assert_eq!(json(&[], r#"{"foo":{"cou-nter":1}}""#), r#"{foo_cou_nter="1"}"#);
        assert_eq!(
            json(&[], "{n}"),
            r#"{__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol"}"#
        );
        let (l, _) = run_stage(Stage::Json, &[], &[("pod", "pod_sm")], r#"{"app":"foo","pod":"pod_parsed"}"#);
        assert_eq!(l, r#"{app="foo", pod="pod_sm", pod_extracted="pod_parsed"}"#);
    }

    #[test]
    fn json_expressions() {
        let st = |e: &[(&str, &str)]| Stage::JsonExpr(e.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect());
        let line = r#"{"app":"foo","pod":{"uuid":"foo"},"arr":[1,{"a":"b"}],"n":null,"t":true}"#;
        assert_eq!(
            run_stage(st(&[("uuid", "pod.uuid")]), &[("uuid", "bar")], &[], line).0,
            r#"{uuid="bar", uuid_extracted="foo"}"#
        );
        assert_eq!(run_stage(st(&[("x", "arr[1]")]), &[], &[], line).0, r#"{x="{\"a\":\"b\"}"}"#);
        assert_eq!(run_stage(st(&[("x", r#"arr[1]["a"]"#)]), &[], &[], line).0, r#"{x="b"}"#);
        assert_eq!(
            run_stage(st(&[("x", "n"), ("y", "t"), ("z", "nope")]), &[], &[], line).0,
            r#"{x="", y="true", z=""}"#
        );
        assert_eq!(run_stage(st(&[("x", "a")]), &[("foo", "bar")], &[], "").0, r#"{foo="bar"}"#);
        let t = "{\"app\":\"foo\",\"field with space\":\"value\",\"field with \u{dc}FT8\u{1f44c}\":\"value\",\"null_field\":null,\"bool_field\":false,\"namespace\":\"prod\",\"pod\":{\"uuid\":\"foo\",\"deployment\":{\"ref\":\"foobar\", \"params\": [1,2,3,\"string_value\"]}}}";
        for (expr, want) in [
            (r#"["field with space"]"#, "value"),
            ("[\"field with \u{dc}FT8\u{1f44c}\"]", "value"),
            (r#"pod["uuid"]"#, "foo"),
            (r#"["pod"]["uuid"]"#, "foo"),
            (r#"["pod"].uuid"#, "foo"),
            ("pod.deployment.params[0]", "1"),
            (r#"pod[""]"#, ""),
            (r#"pod.deployment.params[""]"#, ""),
            ("pod.deployment.params[3]", "string_value"),
            ("pod.deployment.params", r#"[1,2,3,"string_value"]"#),
            ("pod.deployment", r#"{"ref":"foobar", "params": [1,2,3,"string_value"]}"#),
            ("null_field", ""),
            ("bool_field", "false"),
        ] {
            let got = run_stage(st(&[("x", expr)]), &[], &[], t).0;
            assert_eq!(got, format!("{{x={}}}", model::quote_go(want)), "{expr}");
        }
        assert_eq!(
            run_stage(st(&[("x", "a")]), &[("foo", "bar")], &[], "invalid json").0,
            r#"{__error__="JSONParserErr", foo="bar"}"#
        );
    }

    #[test]
    fn label_format() {
        let lf = |fmts: &[(&str, &str, bool)]| {
            Stage::LabelFormat(
                fmts.iter()
                    .map(|(n, v, r)| crate::ast::LabelFmt { name: n.to_string(), value: v.to_string(), rename: *r })
                    .collect(),
            )
        };
        let base = [("foo", "blip"), ("bar", "blop")];
        assert_eq!(run_stage(lf(&[("baz", "foo", true)]), &base, &[], "x").0, r#"{bar="blop", baz="blip"}"#);
        assert_eq!(run_stage(lf(&[("bar", "foo", true)]), &base, &[], "x").0, r#"{bar="blip"}"#);
        assert_eq!(
            run_stage(lf(&[("blip", "{{.foo}} and {{.bar}}", false), ("bar", "foo", true)]), &base, &[], "x").0,
            r#"{bar="blip", blip="blip and blop"}"#
        );
        assert_eq!(
            run_stage(lf(&[("bar", "{{replace \"test\" .foo}}", false)]), &base, &[], "x").0,
            r#"{__error__="TemplateFormatErr", __error_details__="template: label:1:2: executing \"label\" at <replace>: wrong number of args for replace: want 3 got 2", bar="blop", foo="blip"}"#
        );
        assert_eq!(
            run_stage(lf(&[("bar", "{{ .foo | duration }}", false)]), &[("foo", "3m10s")], &[], "x").0,
            r#"{bar="190", foo="3m10s"}"#
        );
    }

    #[test]
    fn unpack() {
        let (l, line) = run_stage(
            Stage::Unpack,
            &[("cluster", "us-central1"), ("app", "bar")],
            &[],
            r#"{"bar":1,"app":"foo","namespace":"prod","_entry":"some message","pod":{"uid":"1"}}"#,
        );
        assert_eq!(l, r#"{app="bar", app_extracted="foo", cluster="us-central1", namespace="prod"}"#);
        assert_eq!(line, "some message");
        let (l, _) = run_stage(Stage::Unpack, &[("cluster", "x")], &[], r#"["foo","bar"]"#);
        assert_eq!(
            l,
            r#"{__error__="JSONParserErr", __error_details__="expecting json object(6), but it is not", cluster="x"}"#
        );
        let (l, line) =
            run_stage(Stage::Unpack, &[("foo", "bar")], &[], r#"{"foo.bar":"10ms","test-dash":"foo","_entry":"m"}"#);
        assert_eq!(l, r#"{foo="bar", foo_bar="10ms", test_dash="foo"}"#);
        assert_eq!(line, "m");
        let (l, line) = run_stage(Stage::Unpack, &[("app", "bar")], &[], r#"{"bar":1,"app":"foo"}"#);
        assert_eq!(l, r#"{app="bar"}"#);
        assert_eq!(line, r#"{"bar":1,"app":"foo"}"#);
        let (l, _) = run_stage(Stage::Unpack, &[], &[("app", "foo_sm")], r#"{"app":"foo","_entry":"m"}"#);
        assert_eq!(l, r#"{app="foo_sm", app_extracted="foo"}"#);
    }

    #[test]
    fn logfmt_expressions() {
        let st = |e: &[(&str, &str)]| Stage::LogfmtExpr {
            strict: false,
            keep_empty: false,
            exprs: e.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        };
        let line = "app=foo level=error spaces=\"value with \u{dc}FT8\u{1f44c}\" ts=2021-02-12T19:18:10.037940878Z";
        assert_eq!(run_stage(st(&[("test", "level")]), &[], &[], line).0, r#"{test="error"}"#);
        assert_eq!(run_stage(st(&[("nope", "nope")]), &[], &[], line).0, r#"{nope=""}"#);
        assert_eq!(
            run_stage(st(&[("app", "app")]), &[("app", "bar")], &[], line).0,
            r#"{app="bar", app_extracted="foo"}"#
        );
        assert_eq!(
            run_stage(st(&[("lvl", "level")]), &[("level", "debug")], &[], line).0,
            r#"{level="debug", lvl="error"}"#
        );
        assert_eq!(
            run_stage(st(&[("app", "app")]), &[], &[("app", "foo_sm")], line).0,
            r#"{app="foo_sm", app_extracted="foo"}"#
        );
        assert_eq!(
            run_stage(st(&[("spaces", "spaces")]), &[], &[], line).0,
            "{spaces=\"value with \u{dc}FT8\u{1f44c}\"}"
        );
    }

    #[test]
    fn logfmt_parser() {
        assert_eq!(
            logfmt(true, &[("foo", "bar")], "foobar====wqe=sdad1r"),
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 8 : unexpected '='", foo="bar"}"#
        );
        assert_eq!(logfmt(false, &[("foo", "bar")], "foobar====wqe=sdad1r"), r#"{foo="bar"}"#);
        assert_eq!(logfmt(false, &[], "buzz=foo bar=\u{FFFD}f"), r#"{bar=" f", buzz="foo"}"#);
        assert_eq!(logfmt(false, &[("foo", "bar")], "buzz bar=foo"), r#"{bar="foo", foo="bar"}"#);
        assert_eq!(logfmt(false, &[("a", "b")], r#"foobar="foo\nbar\tbaz""#), r#"{a="b", foobar="foo\nbar\tbaz"}"#);
        assert_eq!(logfmt(false, &[("a", "b")], r#"foobar="foo ba\\r baz""#), r#"{a="b", foobar="foo ba\\r baz"}"#);
        assert_eq!(
            logfmt(false, &[("foo", "bar")], r#"foobar="foo bar" foobar=10ms"#),
            r#"{foo="bar", foobar="foo bar"}"#
        );
        assert_eq!(
            logfmt(false, &[("foo", "bar")], r#"foo="foo bar" foo.bar=10ms test-dash=foo"#),
            r#"{foo="bar", foo_bar="10ms", foo_extracted="foo bar", test_dash="foo"}"#
        );
        assert_eq!(
            logfmt(true, &[("foo", "bar")], r#"foo="foo bar" =notkey bar=10ms"#),
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 15 : unexpected '='", foo="bar", foo_extracted="foo bar"}"#
        );
        assert_eq!(
            logfmt(true, &[("foo", "bar")], "foo=\"foo bar\" b\u{FFFD}r=10ms"),
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 20 : invalid key", foo="bar", foo_extracted="foo bar"}"#
        );
        assert_eq!(
            logfmt(true, &[("foo", "bar")], r#"foo="foo bar" bu"zz=10ms"#),
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 17 : unexpected '\"'", foo="bar", foo_extracted="foo bar"}"#
        );
        assert_eq!(
            logfmt(true, &[("foo", "bar")], r#"bar=bu=zz foo="foo bar""#),
            r#"{__error__="LogfmtParserErr", __error_details__="logfmt syntax error at pos 7 : unexpected '='", foo="bar"}"#
        );
    }
}

#[cfg(test)]
mod simplify_tests {
    use super::simplify_label_regex as s;

    #[test]
    fn label_regex_simplification() {
        assert!(s(".*").unwrap().matches("a\nb"));
        assert!(!s(".+").unwrap().matches(""));
        assert!(s("err.*").unwrap().matches("xerror"), "Loki's contains quirk");
        assert!(s(".*Exception.*").unwrap().matches("line1\njava.lang.Exception: x"));
        assert!(s("(?i)error").unwrap().matches("ERROR"));
        assert!(!s("error").unwrap().matches("errors"));
        assert!(s("foo|bar").unwrap().matches("bar"));
        assert!(s("bar|baz").is_none());
        assert!(s("a.*b").is_none());
        assert!(s("[a-z]+").is_none());
        assert!(s("foo\\.bar").unwrap().matches("foo.bar"));
    }
}

#[cfg(test)]
mod decolorize_tests {
    #[test]
    fn strips_ansi() {
        assert_eq!(super::decolorize("\u{1b}[31mhello\u{1b}[0m world"), "hello world");
        assert_eq!(super::decolorize("\u{1b}]0;title\u{7}x"), "x");
        assert_eq!(super::decolorize("plain"), "plain");
    }
}

#[cfg(test)]
mod reorder_tests {
    use crate::ast::Expr;

    fn reordered(q: &str) -> String {
        let Expr::Log(l) = crate::parser::parse(q).unwrap() else { panic!() };
        super::reorder(&l.stages).iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn line_filters_move_forward() {
        assert_eq!(
            reordered(
                r#"{c="app"} |= "foo" |= "next" | logfmt |="bar" |="baz" | line_format "{{.foo}}" |="1" |="2" | logfmt |="3""#
            ),
            r#"|= "foo" |= "next" |= "bar" |= "baz" | logfmt | line_format "{{.foo}}" |= "1" |= "2" |= "3" | logfmt"#
        );
        assert_eq!(
            reordered(r#"{c="app"} |= "06497595" | unpack != "message" | json | line_format "new log: {{.foo}}""#),
            r#"|= "06497595" | unpack != "message" | json | line_format "new log: {{.foo}}""#
        );
        assert_eq!(
            reordered(
                r#"{c="app"} | bar="next" |= "foo" | logfmt |="bar" |="baz" | line_format "{{.foo}}" |="1" |="2" | logfmt |="3""#
            ),
            r#"| bar="next" |= "foo" |= "bar" |= "baz" | logfmt | line_format "{{.foo}}" |= "1" |= "2" |= "3" | logfmt"#
        );
        assert_eq!(reordered(r#"{c="app"} | decolorize |= "x""#), r#"|= "x" | decolorize"#);
    }
}
