//! `| json` (every field, flattened with `_`) and `| json a="b.c[0]"` (chosen paths).

use super::json_scanner::{self, Kind};
use std::borrow::Cow;

use super::sanitize_key_cow;
use crate::pipeline::labels::{ERR_JSON, LabelsBuilder, META};

pub(crate) fn json_value(kind: Kind, raw: &str) -> String {
    json_value_cow(kind, raw).into_owned()
}

/// A member's label value: strings unescaped (U+FFFD becomes a space), null empty, other
/// literals as written; borrowed from the line when nothing changes.
#[inline]
pub(crate) fn json_value_cow(kind: Kind, raw: &str) -> Cow<'_, str> {
    match kind {
        Kind::String => {
            let v = json_scanner::unescape_cow(raw).unwrap_or_default();
            if super::has_replacement(v.as_bytes()) { Cow::Owned(v.replace('\u{FFFD}', " ")) } else { v }
        }
        Kind::Null => Cow::Borrowed(""),
        _ => Cow::Borrowed(raw),
    }
}

/// An object member found by the scan: byte spans of its key (with quotes) and value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member {
    key: (usize, usize),
    kind: Kind,
    value: (usize, usize),
}

fn span(whole: &str, part: &str) -> (usize, usize) {
    let a = part.as_ptr() as usize - whole.as_ptr() as usize;
    (a, a + part.len())
}

/// Whether a member at the top level may give a label the hints ask for (a cheap test on
/// the key as written; nested objects are decided while flattening).
#[inline]
fn top_member_wanted(lbs: &LabelsBuilder, key: &str, kind: Kind) -> bool {
    match kind {
        Kind::Null | Kind::Array => false,
        Kind::Object => true,
        _ => {
            let inner = key.as_bytes().get(1..key.len().saturating_sub(1)).unwrap_or_default();
            inner.contains(&b'\\') || lbs.may_extract_raw(inner)
        }
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

fn json_flatten(
    lbs: &mut LabelsBuilder,
    obj: &str,
    prefix: &mut Vec<String>,
    members: &mut Vec<Member>,
) -> Result<(), String> {
    members.clear();
    let top = prefix.is_empty();
    // Members are only kept (as spans) during the scan: labels are set once the whole object
    // proved valid, as an invalid one gives the error and no labels.
    json_scanner::object_each(obj, |k, kind, v| {
        if !top || top_member_wanted(lbs, k, kind) {
            members.push(Member { key: span(obj, k), kind, value: span(obj, v) });
        }
    })?;
    let mut nested: Vec<Member> = Vec::new();
    for m in members.iter() {
        let (k, kind, v) = (&obj[m.key.0..m.key.1], m.kind, &obj[m.value.0..m.value.1]);
        let key = json_scanner::unescape_cow(k).unwrap_or_default();
        match kind {
            Kind::Object => {
                prefix.push(key.into_owned());
                let parts: Vec<&str> = prefix.iter().map(String::as_str).collect();
                // (the member was validated while scanning the parent object)
                if lbs.should_extract_prefix(&join_sanitized(&parts)) {
                    json_flatten(lbs, v, prefix, &mut nested)?;
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
                lbs.set_parsed(&name, &json_value_cow(kind, v));
            }
            _ => {}
        }
    }
    Ok(())
}

/// `| json`: every field of the line's object, flattened with `_`; `members` is a buffer
/// reused between lines.
pub(crate) fn process_json(lbs: &mut LabelsBuilder, line: &str, members: &mut Vec<Member>) {
    let mut prefix = Vec::new();
    if let Err(e) = json_flatten(lbs, line, &mut prefix, members) {
        lbs.set_parser_err(ERR_JSON, Some(&e));
    }
}

/// `| json a="b.c[0]"`: the chosen paths only.
pub(crate) fn process_json_paths(lbs: &mut LabelsBuilder, line: &str, exprs: &[(String, Vec<json_scanner::PathPart>)]) {
    if line.is_empty() {
        return;
    }
    let t = line.trim_start();
    if !(t.starts_with('{') || t.starts_with('[') || t.starts_with('"')) {
        lbs.set_parser_err(ERR_JSON, None);
        return;
    }
    if let Err(e) = json_scanner::Scanner::new(line).value() {
        lbs.set_parser_err(ERR_JSON, Some(&e));
        return;
    }
    for (id, path) in exprs {
        let v = match json_scanner::get_path(line, path) {
            Ok(Some((k, raw))) => json_value(k, raw),
            Ok(None) => String::new(),
            Err(e) => {
                lbs.set_parser_err(ERR_JSON, Some(&e));
                return;
            }
        };
        let k = lbs.parsed_key(id.clone());
        lbs.set_parsed(&k, &v);
    }
}
