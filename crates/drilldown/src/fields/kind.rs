//! The type of a field, guessed from one value as Loki guesses it: Go's `ParseInt`, then
//! `ParseFloat`, `ParseBool`, `time.ParseDuration`, go-humanize's `ParseBytes`, else a string.

use gotemplate::go::{parse_bytes, parse_go_duration, parse_go_float};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Int,
    Float,
    Boolean,
    Duration,
    Bytes,
}

/// Go's `strconv.ParseInt(s, 10, 64)` succeeds.
fn is_go_int(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.parse::<i64>().is_ok()
}

/// Go's `strconv.ParseBool` succeeds.
fn is_go_bool(s: &str) -> bool {
    matches!(s, "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False")
}

pub fn field_type(v: &str) -> FieldType {
    if is_go_int(v) {
        FieldType::Int
    } else if parse_go_float(v).is_ok() {
        FieldType::Float
    } else if is_go_bool(v) {
        FieldType::Boolean
    } else if parse_go_duration(v).is_ok() {
        FieldType::Duration
    } else if parse_bytes(v).is_ok() {
        FieldType::Bytes
    } else {
        FieldType::String
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_as_loki_guesses_them() {
        for (v, t) in [
            ("42", FieldType::Int),
            ("-7", FieldType::Int),
            ("+3", FieldType::Int),
            ("99999999999999999999", FieldType::Float),
            ("1.5", FieldType::Float),
            ("1e3", FieldType::Float),
            ("NaN", FieldType::Float),
            ("true", FieldType::Boolean),
            ("F", FieldType::Boolean),
            ("250ms", FieldType::Duration),
            ("1h2m", FieldType::Duration),
            ("10MB", FieldType::Bytes),
            ("1.5 KiB", FieldType::Bytes),
            ("GET", FieldType::String),
            ("", FieldType::String),
        ] {
            assert_eq!(field_type(v), t, "{v:?}");
        }
    }
}
