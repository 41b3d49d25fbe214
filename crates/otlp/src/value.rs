//! An OTLP `AnyValue` as the text Loki stores for it (the line of a non-string body, the value of
//! a non-string attribute): what Go's pdata `Value.AsString` gives.
//!
//! Strings as they are; booleans `true`/`false`; integers in decimal; doubles as JavaScript
//! prints numbers (`1.5`, `100`, `1e+21`, `1e-7`); bytes as standard base64; maps and arrays as
//! compact JSON the way Go's `encoding/json` writes them (keys sorted, `<`, `>`, `&`, U+2028 and
//! U+2029 escaped, bytes as base64). A NaN or infinite double has no JSON form: inside a map or
//! array the whole value renders empty, as Go's encoder fails on it.

use base64::Engine as _;

use crate::proto::{AnyValue, KeyValue, Value, text};

/// The text of a value (empty for an absent value).
pub fn as_string(v: Option<&AnyValue>) -> String {
    match v.and_then(|v| v.value.as_ref()) {
        None => String::new(),
        Some(Value::StringValue(s)) => text(s),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(f)) => {
            if f.is_finite() {
                number(*f)
            } else {
                format!("json: unsupported value: {}", go_special(*f))
            }
        }
        Some(Value::BytesValue(b)) => base64::engine::general_purpose::STANDARD.encode(b),
        Some(Value::ArrayValue(_)) | Some(Value::KvlistValue(_)) => {
            let mut out = String::new();
            if json(v.unwrap(), &mut out) { out } else { String::new() }
        }
    }
}

fn go_special(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

/// A finite double as ES6 (and Go's JSON encoder) prints it.
pub fn number(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust: "1e21", "1.5e-7"; Go: "1e+21", "1.5e-07" cleaned to "1.5e-7".
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
            _ => s,
        }
    } else if f == 0.0 {
        if f.is_sign_negative() { "-0".into() } else { "0".into() }
    } else {
        format!("{f}")
    }
}

/// Writes `v` as Go's `json.Marshal(v.AsRaw())` would; false when it has no JSON form.
fn json(v: &AnyValue, out: &mut String) -> bool {
    match &v.value {
        None => out.push_str("null"),
        Some(Value::StringValue(s)) => quote(&text(s), out),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(Value::DoubleValue(f)) => {
            if !f.is_finite() {
                return false;
            }
            out.push_str(&number(*f))
        }
        Some(Value::BytesValue(b)) => quote(&base64::engine::general_purpose::STANDARD.encode(b), out),
        Some(Value::ArrayValue(a)) => {
            out.push('[');
            for (i, x) in a.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !json(x, out) {
                    return false;
                }
            }
            out.push(']');
        }
        Some(Value::KvlistValue(m)) => return json_map(&m.values, out),
    }
    true
}

fn json_map(kvs: &[KeyValue], out: &mut String) -> bool {
    // A Go map: the last of duplicate keys wins, keys sorted.
    let mut m: std::collections::BTreeMap<String, Option<&AnyValue>> = Default::default();
    for kv in kvs {
        m.insert(text(&kv.key), kv.value.as_ref());
    }
    out.push('{');
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        quote(k, out);
        out.push(':');
        match v {
            Some(v) => {
                if !json(v, out) {
                    return false;
                }
            }
            None => out.push_str("null"),
        }
    }
    out.push('}');
    true
}

/// A JSON string as Go's encoder writes it (HTML-safe).
fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{ArrayValue, KeyValueList};

    fn v(x: Value) -> AnyValue {
        AnyValue { value: Some(x) }
    }
    fn kv(k: &str, x: Value) -> KeyValue {
        KeyValue { key: k.as_bytes().to_vec(), value: Some(v(x)) }
    }

    #[test]
    fn scalars_render_as_go_pdata() {
        assert_eq!(as_string(Some(&v(Value::StringValue(b"a\xffb".to_vec())))), "a\u{fffd}b");
        assert_eq!(as_string(Some(&v(Value::IntValue(-42)))), "-42");
        assert_eq!(as_string(Some(&v(Value::BoolValue(true)))), "true");
        assert_eq!(as_string(Some(&v(Value::DoubleValue(1.5)))), "1.5");
        assert_eq!(as_string(Some(&v(Value::DoubleValue(100.0)))), "100");
        assert_eq!(as_string(Some(&v(Value::DoubleValue(1e21)))), "1e+21");
        assert_eq!(as_string(Some(&v(Value::DoubleValue(1.5e-7)))), "1.5e-7");
        assert_eq!(as_string(Some(&v(Value::DoubleValue(0.000001)))), "0.000001");
        assert_eq!(as_string(Some(&v(Value::BytesValue(b"hi".to_vec())))), "aGk=");
        assert_eq!(as_string(None), "");
    }

    #[test]
    fn maps_and_arrays_render_as_go_json() {
        let m = v(Value::KvlistValue(KeyValueList {
            values: vec![
                kv("z", Value::IntValue(1)),
                kv("a", Value::StringValue(b"<x & y>".to_vec())),
                kv(
                    "arr",
                    Value::ArrayValue(ArrayValue {
                        values: vec![v(Value::BoolValue(false)), v(Value::DoubleValue(2.25))],
                    }),
                ),
                KeyValue { key: b"n".to_vec(), value: None },
            ],
        }));
        assert_eq!(as_string(Some(&m)), r#"{"a":"\u003cx \u0026 y\u003e","arr":[false,2.25],"n":null,"z":1}"#);
        let bad = v(Value::ArrayValue(ArrayValue { values: vec![v(Value::DoubleValue(f64::NAN))] }));
        assert_eq!(as_string(Some(&bad)), "");
    }
}
