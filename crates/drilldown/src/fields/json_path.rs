//! The original key path of each label Loki's `json` parser makes of a line (`user_id` ←
//! `["user","id"]`), for the `jsonPath` of a detected field.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// Label name → key path, for every string, number and boolean of a JSON object line (arrays
/// and nulls make no label, as in Loki).
pub fn json_paths(line: &str) -> HashMap<String, Vec<String>> {
    let mut out = HashMap::new();
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(line) {
        walk(&m, &mut Vec::new(), &mut out);
    }
    out
}

fn walk<'a>(m: &'a Map<String, Value>, prefix: &mut Vec<&'a str>, out: &mut HashMap<String, Vec<String>>) {
    for (k, v) in m {
        match v {
            Value::Object(inner) => {
                prefix.push(k);
                walk(inner, prefix, out);
                prefix.pop();
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                prefix.push(k);
                let name = label_name(prefix);
                if !name.is_empty() {
                    out.entry(name).or_insert_with(|| prefix.iter().map(|s| s.to_string()).collect());
                }
                prefix.pop();
            }
            _ => {}
        }
    }
}

/// Loki's label name of a key path: parts blank after trimming skipped, every character but
/// `[A-Za-z0-9_]` made `_`, parts joined by `_`, a leading digit prefixed with `_`.
fn label_name(parts: &[&str]) -> String {
    let mut s = String::new();
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        if !s.is_empty() {
            s.push('_');
        }
        s.extend(p.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }));
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_nested_keys() {
        let p = json_paths(r#"{"user":{"id":7,"first name":"a"},"tags":["x"],"n":null,"ok":true,"3d":"y"}"#);
        assert_eq!(p["user_id"], ["user", "id"]);
        assert_eq!(p["user_first_name"], ["user", "first name"]);
        assert_eq!(p["ok"], ["ok"]);
        assert_eq!(p["_3d"], ["3d"]);
        assert!(!p.contains_key("tags") && !p.contains_key("n"));
        assert!(json_paths("level=info").is_empty());
    }
}
