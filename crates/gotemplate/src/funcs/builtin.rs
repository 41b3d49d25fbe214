//! Go's `text/template` builtin functions (`and`, `or`, `not`, `len`, `index`, `print`,
//! `printf`, comparisons, `html`, `js`, `urlquery`), shared by every function set.

use super::encoding::query_escape;
use crate::Host;
use crate::fmt::sprintf;
use crate::value::{MapKind, Value};

pub(crate) const FUNCS: &[&str] = &[
    "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge",
    "html", "js", "urlquery", "call",
];

/// Calls builtin `f` (its argument count already checked); `None` when `f` is not a builtin.
pub(crate) fn call(f: &str, a: &[Value], host: &dyn Host) -> Option<Result<Value, String>> {
    if !FUNCS.contains(&f) {
        return None;
    }
    Some(call_builtin(f, a, host))
}

fn call_builtin(f: &str, a: &[Value], host: &dyn Host) -> Result<Value, String> {
    let s = |i: usize| a.get(i).map(|v| v.as_str()).unwrap_or_default();
    Ok(match f {
        "not" => Value::Bool(!a.first().map(|v| v.truth()).unwrap_or(false)),
        "and" => {
            let mut r = Value::Nil;
            for v in a {
                r = v.clone();
                if !v.truth() {
                    break;
                }
            }
            r
        }
        "or" => {
            let mut r = Value::Nil;
            for v in a {
                r = v.clone();
                if v.truth() {
                    break;
                }
            }
            r
        }
        "len" => match &a[0] {
            Value::Root => Value::Int(host.root_map().entries.len() as i64),
            Value::Map(m) => Value::Int(m.entries.len() as i64),
            Value::List(l) => Value::Int(l.len() as i64),
            Value::Str(s) => Value::Int(s.len() as i64),
            v => return Err(format!("error calling len: len of type {}", v.type_name())),
        },
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
            if a.len() < 2 {
                return Err("missing argument for comparison".to_string());
            }
            let cmp = |x: &Value, y: &Value| -> Option<std::cmp::Ordering> {
                match (x, y) {
                    (Value::Str(p), Value::Str(q)) => Some(p.cmp(q)),
                    (Value::Bool(p), Value::Bool(q)) => Some(p.cmp(q)),
                    (Value::Int(p), Value::Int(q)) => Some(p.cmp(q)),
                    (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
                        x.to_f64().partial_cmp(&y.to_f64())
                    }
                    (Value::Nil, Value::Nil) => Some(std::cmp::Ordering::Equal),
                    _ => None,
                }
            };
            match f {
                "eq" => {
                    let mut r = false;
                    for y in &a[1..] {
                        match cmp(&a[0], y) {
                            Some(o) => r |= o.is_eq(),
                            None => return Err("error calling eq: incompatible types for comparison".into()),
                        }
                    }
                    Value::Bool(r)
                }
                _ => {
                    let o = cmp(&a[0], &a[1])
                        .ok_or_else(|| format!("error calling {f}: incompatible types for comparison"))?;
                    Value::Bool(match f {
                        "ne" => o.is_ne(),
                        "lt" => o.is_lt(),
                        "le" => o.is_le(),
                        "gt" => o.is_gt(),
                        _ => o.is_ge(),
                    })
                }
            }
        }
        "print" => {
            let mut out = String::new();
            for (i, v) in a.iter().enumerate() {
                let is_str = matches!(v, Value::Str(_));
                let prev_str = i > 0 && matches!(a[i - 1], Value::Str(_));
                if i > 0 && !is_str && !prev_str {
                    out.push(' ');
                }
                out.push_str(&v.to_go_string());
            }
            Value::Str(out)
        }
        "println" => Value::Str(format!("{}\n", a.iter().map(|v| v.to_go_string()).collect::<Vec<_>>().join(" "))),
        "printf" => Value::Str(sprintf(&s(0), &a[1.min(a.len())..])),
        "html" => Value::Str(
            s(0).replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&#34;")
                .replace('\'', "&#39;"),
        ),
        "js" => Value::Str(s(0).replace('\\', "\\\\").replace('"', "\\\"").replace('\'', "\\'")),
        "index" => {
            let mut v = a[0].clone();
            for k in &a[1..] {
                v = match (v, k) {
                    (Value::Root, k) => host.root_field(&k.as_str()),
                    (Value::Map(m), Value::Str(k)) if m.kind == MapKind::Strings => {
                        m.get(k).cloned().unwrap_or(Value::Str(String::new()))
                    }
                    (Value::Map(m), Value::Str(k)) if m.kind == MapKind::Any => m.get(k).cloned().unwrap_or(Value::Nil),
                    (Value::List(l), Value::Int(i)) => match l.get(*i as usize) {
                        Some(x) if *i >= 0 => x.clone(),
                        _ => return Err(format!("error calling index: index out of range: {i}")),
                    },
                    (Value::Nil, _) => return Err("error calling index: index of untyped nil".into()),
                    (v, _) => return Err(format!("error calling index: can't index item of type {}", v.type_name())),
                };
            }
            v
        }
        "urlquery" => Value::Str(query_escape(&s(0))),
        "slice" | "call" => return Err(format!("error calling {f}: can't index item of type {}", a[0].type_name())),
        _ => return Err(format!("function {f:?} not defined")),
    })
}
