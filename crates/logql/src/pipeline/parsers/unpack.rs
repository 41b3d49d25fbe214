//! `| unpack`: a JSON object's string fields become labels and its `_entry` the line.

use std::borrow::Cow;

use super::json::json_value_cow;
use super::json_scanner::{self, Kind};
use super::sanitize_key;
use crate::pipeline::labels::{ERR_JSON, LabelsBuilder};

/// A string member kept during the scan: byte spans of its key and value (both quoted).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Packed {
    key: (usize, usize),
    value: (usize, usize),
}

fn span(whole: &str, part: &str) -> (usize, usize) {
    let a = part.as_ptr() as usize - whole.as_ptr() as usize;
    (a, a + part.len())
}

/// Unpacks the line (an object of strings written by Promtail's `pack` stage); `pairs` is a
/// buffer reused between lines. Under parser hints only the members whose label a hint names
/// are decoded (the line is still validated whole, and `_entry` still becomes the line).
pub(crate) fn process_unpack(lbs: &mut LabelsBuilder, line: &mut Cow<'_, str>, pairs: &mut Vec<Packed>) {
    if line.is_empty() {
        return;
    }
    if !line.starts_with('{') {
        lbs.set_parser_err(ERR_JSON, Some("expecting json object(6), but it is not"));
        return;
    }
    pairs.clear();
    let mut entry: Option<(usize, usize)> = None;
    let text: &str = line;
    let res = json_scanner::object_each(text, |k, kind, v| {
        if kind != Kind::String {
            return;
        }
        let inner = &k.as_bytes()[1..k.len() - 1];
        let escaped = inner.contains(&b'\\');
        if inner == b"_entry" || escaped && json_scanner::unescape_cow(k).as_deref() == Some("_entry") {
            entry = Some(span(text, v));
            return;
        }
        // (an escaped key may name a hinted label once unescaped)
        if escaped || lbs.may_extract_raw(inner) {
            pairs.push(Packed { key: span(text, k), value: span(text, v) });
        }
    });
    if let Err(e) = res {
        lbs.set_parser_err(ERR_JSON, Some(&e));
        return;
    }
    let Some((a, b)) = entry else { return };
    let entry = json_scanner::unescape(&text[a..b]).unwrap_or_default();
    for p in pairs.iter() {
        let (k, v) = (&text[p.key.0..p.key.1], &text[p.value.0..p.value.1]);
        let key = json_scanner::unescape_cow(k).unwrap_or_default();
        let k = lbs.parsed_key(key.into_owned());
        if lbs.extracted(&k) {
            continue;
        }
        let name = sanitize_key(&k, true);
        if !lbs.should_extract(&name) {
            continue;
        }
        lbs.set_parsed(&name, &json_value_cow(Kind::String, v));
    }
    *line = Cow::Owned(entry);
}
