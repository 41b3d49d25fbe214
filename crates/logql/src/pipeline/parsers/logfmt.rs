//! `| logfmt` (with `--strict` and `--keep-empty`) and `| logfmt a="b"`: go-logfmt's decoder.

use std::borrow::Cow;

use super::json_scanner;
use super::{as_text, label_value, sanitize_key, sanitize_key_cow};
use crate::pipeline::labels::{ERR_LOGFMT, LabelsBuilder, META};

fn has_rune_error(k: &[u8]) -> bool {
    super::has_replacement(k)
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
                        match json_scanner::unescape(raw) {
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

pub(crate) fn logfmt_process(
    lbs: &mut LabelsBuilder,
    line: &str,
    strict: bool,
    keep_empty: bool,
    only: Option<&[(String, String)]>,
) {
    if let Some(exprs) = only {
        return logfmt_expressions(lbs, line, strict, exprs);
    }
    // Without --strict the parser reports no error: when the hints name no label, it has
    // nothing to do (`sum(count_over_time({...} | logfmt [5m]))`).
    if !strict && lbs.hints_name_nothing() {
        return;
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
        // Keys no hint can name cost nothing more (no decoding, no allocation).
        if !lbs.may_extract_raw(k) {
            continue;
        }
        let key_s = as_text(line, k);
        let val = || -> Cow<'_, str> { dec.value.as_deref().map(|v| label_value(line, v)).unwrap_or_default() };
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
        // Without --strict later syntax errors are not reported: once every hinted label is
        // set, the rest of the line cannot change the result.
        if !strict && lbs.all_hints_extracted() {
            break;
        }
    }
    if strict && let Some(e) = dec.err {
        lbs.set_parser_err(ERR_LOGFMT, Some(&e));
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
        lbs.set_parser_err(ERR_LOGFMT, Some(&e));
    }
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

/// The names a hinted `| logfmt` (without `--strict`) looks for directly: Loki's parser hints
/// when each is a plain name (a letter, then letters and digits), which only a key written
/// exactly so can give. Each has a searcher for `name=`, built when the hints change.
#[derive(Debug, Clone, Default)]
pub(crate) struct HintedKeys {
    hints: Option<std::sync::Arc<Vec<String>>>,
    built: bool,
    /// `None` when some hint is not a plain name (or there are none, or too many).
    keys: Option<Vec<(String, memchr::memmem::Finder<'static>)>>,
}

/// A hinted key's pair: where it starts and where its value is.
type Found = (usize, usize, usize);

/// The most names the direct search handles.
const MAX_HINTED: usize = 8;

fn plain_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic) && b.iter().all(u8::is_ascii_alphanumeric)
}

impl HintedKeys {
    fn refresh(&mut self, lbs: &LabelsBuilder) {
        let now = lbs.hints.as_ref().map(|h| &h.names);
        let same = match (&self.hints, now) {
            (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if self.built && same {
            return;
        }
        self.built = true;
        self.hints = now.cloned();
        self.keys = now.and_then(|h| {
            let names: Vec<&String> = h.iter().filter(|x| !x.is_empty()).collect();
            if names.is_empty() || names.len() > MAX_HINTED || !names.iter().all(|n| plain_name(n)) {
                return None;
            }
            Some(
                names
                    .into_iter()
                    .map(|n| (n.clone(), memchr::memmem::Finder::new(format!("{n}=").as_bytes()).into_owned()))
                    .collect(),
            )
        });
    }
}

/// `| logfmt` without `--strict` nor `--keep-empty` (a bare key would count) under plain-name
/// hints: finds each hinted key with memmem
/// instead of decoding every pair. Before the line's first `"` pairs are whitespace-separated
/// fields, so `name=` at a field start is that key's pair, decoded as the full decoder would;
/// the first valid one wins, as there. Returns false (having set nothing) when the answer
/// needs the full decoder: a name clashing with a stream label or metadata, or a key not found
/// before a quote.
pub(crate) fn logfmt_hinted(lbs: &mut LabelsBuilder, line: &str, hk: &mut HintedKeys) -> bool {
    hk.refresh(lbs);
    let Some(keys) = &hk.keys else { return false };
    let b = line.as_bytes();
    // `b[..clean]` has no quote: there pairs are whitespace-separated fields (looked for only
    // as far as a found key, not over the whole line).
    let mut clean = 0;
    let mut quote_free = |upto: usize| {
        if upto > clean {
            if memchr::memchr(b'"', &b[clean..upto]).is_some() {
                return false;
            }
            clean = upto;
        }
        true
    };
    let mut found: [Option<Found>; MAX_HINTED] = [None; MAX_HINTED];
    for (k, (name, finder)) in keys.iter().enumerate() {
        if lbs.extracted(name) {
            continue;
        }
        if lbs.base_has(name) || lbs.has_in(META, name) {
            return false;
        }
        let mut from = 0;
        loop {
            let Some(i) = finder.find(&b[from..]).map(|i| i + from) else {
                if !quote_free(b.len()) {
                    return false;
                }
                break;
            };
            if !quote_free(i) {
                return false;
            }
            from = i + 1;
            if i > 0 && b[i - 1] > b' ' {
                continue;
            }
            let mut dec = Logfmt { line: b, pos: i, key: None, value: None, err: None };
            if !dec.scan() {
                continue;
            }
            let v = match dec.value {
                Some(Cow::Borrowed(v)) if !v.is_empty() => v,
                // (an unescaped value is left to the full decoder, which is rarely needed)
                Some(Cow::Owned(_)) => return false,
                _ => continue,
            };
            let at = v.as_ptr() as usize - b.as_ptr() as usize;
            found[k] = Some((i, at, at + v.len()));
            break;
        }
    }
    // In the order of the line, as the decoder would set them.
    let mut order: [(usize, usize); MAX_HINTED] = [(0, 0); MAX_HINTED];
    let mut n = 0;
    for (k, f) in found.iter().enumerate().take(keys.len()) {
        if let Some((pos, _, _)) = f {
            let mut j = n;
            while j > 0 && order[j - 1].0 > *pos {
                order[j] = order[j - 1];
                j -= 1;
            }
            order[j] = (*pos, k);
            n += 1;
        }
    }
    for &(_, k) in &order[..n] {
        let Some((_, a, z)) = found[k] else { continue };
        let v = label_value(line, &b[a..z]);
        lbs.set_parsed(&keys[k].0, &v);
    }
    true
}
