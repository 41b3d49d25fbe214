//! Go's `fmt.Sprintf` for the verbs templates use.

use crate::go;
use crate::value::Value;

/// Go `fmt.Sprintf` for the common verbs.
pub(crate) fn sprintf(fmt: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let c: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    let mut ai = 0;
    while i < c.len() {
        if c[i] != '%' {
            out.push(c[i]);
            i += 1;
            continue;
        }
        i += 1;
        if i >= c.len() {
            out.push_str("%!(NOVERB)");
            break;
        }
        let mut flags = String::new();
        while i < c.len() && "+-# 0".contains(c[i]) {
            flags.push(c[i]);
            i += 1;
        }
        let mut width = String::new();
        while i < c.len() && c[i].is_ascii_digit() {
            width.push(c[i]);
            i += 1;
        }
        let mut prec: Option<usize> = None;
        if i < c.len() && c[i] == '.' {
            i += 1;
            let mut p = String::new();
            while i < c.len() && c[i].is_ascii_digit() {
                p.push(c[i]);
                i += 1;
            }
            prec = Some(p.parse().unwrap_or(0));
        }
        if i >= c.len() {
            break;
        }
        let verb = c[i];
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(ai) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        ai += 1;
        let body = match verb {
            's' | 'v' => {
                let s = arg.to_go_string();
                match prec {
                    Some(p) if verb == 's' => s.chars().take(p).collect(),
                    _ => s,
                }
            }
            'q' => model::quote_go(&arg.to_go_string()),
            'd' => match arg {
                Value::Int(n) => n.to_string(),
                _ => {
                    format!("%!d({}={})", type_name(arg), arg.to_go_string())
                }
            },
            'f' | 'F' => match arg {
                Value::Float(_) | Value::Int(_) => format!("{:.*}", prec.unwrap_or(6), arg.to_f64()),
                _ => format!("%!f({}={})", type_name(arg), arg.to_go_string()),
            },
            'g' => go::format_float_g(arg.to_f64()),
            'e' => format!("{:.*e}", prec.unwrap_or(6), arg.to_f64()),
            't' => arg.to_go_string(),
            'x' => match arg {
                Value::Int(n) => format!("{n:x}"),
                _ => arg.to_go_string().bytes().map(|b| format!("{b:02x}")).collect(),
            },
            'X' => match arg {
                Value::Int(n) => format!("{n:X}"),
                _ => arg.to_go_string().bytes().map(|b| format!("{b:02X}")).collect(),
            },
            _ => format!("%!{verb}({}={})", type_name(arg), arg.to_go_string()),
        };
        let body = if flags.contains('+') && matches!(verb, 'd' | 'f') && !body.starts_with('-') {
            format!("+{body}")
        } else {
            body
        };
        let w: usize = width.parse().unwrap_or(0);
        let len = body.chars().count();
        if len < w {
            let pad = w - len;
            if flags.contains('-') {
                out.push_str(&body);
                out.push_str(&" ".repeat(pad));
            } else if flags.contains('0') && matches!(verb, 'd' | 'f') {
                let (sign, digits) =
                    if body.starts_with('-') || body.starts_with('+') { body.split_at(1) } else { ("", body.as_str()) };
                out.push_str(sign);
                out.push_str(&"0".repeat(pad));
                out.push_str(digits);
            } else {
                out.push_str(&" ".repeat(pad));
                out.push_str(&body);
            }
        } else {
            out.push_str(&body);
        }
    }
    if ai < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[ai..].iter().map(|a| format!("{}={}", type_name(a), a.to_go_string())).collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

fn type_name(v: &Value) -> &'static str {
    v.type_name()
}
