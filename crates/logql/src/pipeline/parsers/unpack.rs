//! `| unpack`: a JSON object's string fields become labels and its `_entry` the line.

use std::borrow::Cow;

use super::json::json_value;
use super::json_scanner::{self, Kind};
use super::sanitize_key;
use crate::pipeline::labels::{ERR_JSON, LabelsBuilder};

/// Unpacks the line (an object of strings written by Promtail's `pack` stage).
pub(crate) fn process_unpack(lbs: &mut LabelsBuilder, line: &mut Cow<'_, str>) {
    if line.is_empty() {
        return;
    }
    if !line.starts_with('{') {
        lbs.set_parser_err(ERR_JSON, Some("expecting json object(6), but it is not"));
        return;
    }
    let mut entry: Option<String> = None;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let res = json_scanner::object_each(line, |k, kind, v| {
        if kind != Kind::String {
            return;
        }
        let key = json_scanner::unescape(k).unwrap_or_default();
        if key == "_entry" {
            entry = Some(json_scanner::unescape(v).unwrap_or_default());
            return;
        }
        pairs.push((key, json_value(Kind::String, v)));
    });
    if let Err(e) = res {
        lbs.set_parser_err(ERR_JSON, Some(&e));
        return;
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
}
