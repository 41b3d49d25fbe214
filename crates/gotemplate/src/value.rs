//! The values a template computes with: Go's scalars, maps, structs and lists, with Go's truth,
//! printing (`fmt.Sprint`) and the conversions the function sets apply.

use std::sync::Arc;

use crate::go::{Tz, format_float_g, format_time_in, parse_go_float};

/// A template value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Nanoseconds since the epoch and the location, printed like Go's `time.Time`
    /// ([`crate::go::ZERO_TIME`] is Go's zero time).
    Time(i64, Tz),
    Nil,
    /// The host's own data (for Loki: the entry's label map), read through [`crate::Host`].
    Root,
    Map(Arc<Map>),
    List(Arc<Vec<Value>>),
}

/// What a [`Map`] stands for in Go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MapKind {
    /// `map[string]string`: printed `map[k:v ...]`; a missing key reads as `""` (Go's
    /// `missingkey=zero`, which Prometheus sets).
    Strings,
    /// `map[string]interface {}` (what `fromJson` decodes an object to): printed like
    /// `Strings`, with nil values as `<nil>`; a missing key reads as nil (`<no value>`).
    Any,
    /// A struct (its Go type name for errors): printed `{v1 v2}` in field order; a missing field
    /// is an error.
    Struct(&'static str),
}

/// A Go map (entries sorted by key) or struct (fields in declaration order).
#[derive(Debug, Clone, PartialEq)]
pub struct Map {
    pub kind: MapKind,
    pub entries: Vec<(String, Value)>,
}

impl Map {
    /// A `map[string]string` from string pairs, in any order.
    pub fn strings<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Map {
        let mut entries: Vec<(String, Value)> =
            pairs.into_iter().map(|(k, v)| (k.to_string(), Value::Str(v.to_string()))).collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.dedup_by(|a, b| a.0 == b.0);
        Map { kind: MapKind::Strings, entries }
    }
    pub fn get(&self, k: &str) -> Option<&Value> {
        match self.kind {
            MapKind::Strings | MapKind::Any => {
                self.entries.binary_search_by(|e| e.0.as_str().cmp(k)).ok().map(|i| &self.entries[i].1)
            }
            MapKind::Struct(_) => self.entries.iter().find(|e| e.0 == k).map(|e| &e.1),
        }
    }
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            MapKind::Strings => "map[string]string",
            MapKind::Any => "map[string]interface {}",
            MapKind::Struct(t) => t,
        }
    }
    fn print(&self) -> String {
        match self.kind {
            MapKind::Strings | MapKind::Any => {
                let body: Vec<String> =
                    self.entries.iter().map(|(k, v)| format!("{k}:{}", v.nested_string())).collect();
                format!("map[{}]", body.join(" "))
            }
            MapKind::Struct(_) => {
                let body: Vec<String> = self.entries.iter().map(|(_, v)| v.nested_string()).collect();
                format!("{{{}}}", body.join(" "))
            }
        }
    }
}

impl Value {
    /// Go's truth: false, 0, "", nil and empty maps and lists are false.
    pub fn truth(&self) -> bool {
        match self {
            Value::Str(s) => !s.is_empty(),
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Bool(b) => *b,
            Value::Time(..) | Value::Root => true,
            Value::Nil => false,
            Value::Map(m) => matches!(m.kind, MapKind::Struct(_)) || !m.entries.is_empty(),
            Value::List(l) => !l.is_empty(),
        }
    }
    /// `fmt.Sprint(v)`. (`Root` is printed by the executor, which knows the host.)
    pub fn to_go_string(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format_float_g(*f),
            Value::Bool(b) => b.to_string(),
            Value::Time(t, tz) => format_time_in(*t, "2006-01-02 15:04:05.999999999 -0700 MST", tz),
            Value::Nil => "<no value>".into(),
            Value::Root => "map[]".into(),
            Value::Map(m) => m.print(),
            Value::List(l) => format!("[{}]", l.iter().map(|v| v.nested_string()).collect::<Vec<_>>().join(" ")),
        }
    }
    /// `fmt.Sprint` of a value inside a map or list: a nil interface is `<nil>` there.
    fn nested_string(&self) -> String {
        match self {
            Value::Nil => "<nil>".into(),
            v => v.to_go_string(),
        }
    }
    /// Go's `json.Unmarshal` into `interface{}` (Sprig's `fromJson`): objects are
    /// `map[string]interface {}`, arrays `[]interface {}`, numbers `float64`; invalid JSON is nil.
    pub fn from_json(text: &str) -> Value {
        fn conv(j: serde_json::Value) -> Value {
            match j {
                serde_json::Value::Null => Value::Nil,
                serde_json::Value::Bool(b) => Value::Bool(b),
                serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
                serde_json::Value::String(s) => Value::Str(s),
                serde_json::Value::Array(a) => Value::List(Arc::new(a.into_iter().map(conv).collect())),
                serde_json::Value::Object(o) => {
                    let mut entries: Vec<(String, Value)> = o.into_iter().map(|(k, v)| (k, conv(v))).collect();
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                    Value::Map(Arc::new(Map { kind: MapKind::Any, entries }))
                }
            }
        }
        serde_json::from_str::<serde_json::Value>(text).map(conv).unwrap_or(Value::Nil)
    }
    /// The value as a function's string argument (nil is "").
    pub(crate) fn as_str(&self) -> String {
        match self {
            Value::Nil => String::new(),
            v => v.to_go_string(),
        }
    }
    /// spf13/cast ToInt64.
    pub(crate) fn to_i64(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            Value::Float(f) => *f as i64,
            Value::Bool(b) => *b as i64,
            Value::Str(s) => parse_go_int(s.trim()).unwrap_or(0),
            _ => 0,
        }
    }
    pub(crate) fn to_f64(&self) -> f64 {
        match self {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            Value::Bool(b) => *b as i64 as f64,
            Value::Str(s) => parse_go_float(s).unwrap_or(0.0),
            _ => 0.0,
        }
    }
    /// Go's type name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Bool(_) => "bool",
            Value::Time(..) => "time.Time",
            Value::Nil => "<nil>",
            Value::Root => "map[string]string",
            Value::Map(m) => m.type_name(),
            Value::List(_) => "[]interface {}",
        }
    }
}

/// Go's integer literal syntax (`0x1f`, `0o17`, `017`, `0b1`), as `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, b) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = b.strip_prefix("0x").or_else(|| b.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = b.strip_prefix("0o").or_else(|| b.strip_prefix("0O")) {
        i64::from_str_radix(o, 8).ok()?
    } else if let Some(o) = b.strip_prefix("0b").or_else(|| b.strip_prefix("0B")) {
        i64::from_str_radix(o, 2).ok()?
    } else if b.len() > 1 && b.starts_with('0') {
        i64::from_str_radix(&b[1..], 8).ok()?
    } else {
        b.parse().ok()?
    };
    Some(if neg { -v } else { v })
}
