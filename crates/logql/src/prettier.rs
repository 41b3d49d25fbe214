//! Loki's query prettifier (`/loki/api/v1/format_query`), best effort.

use crate::ast::*;
use crate::parser::{ParseError, parse};

const MAX_CHARS: usize = 100;

/// Parses and pretty-prints a query.
pub fn format_query(q: &str) -> Result<String, ParseError> {
    let e = parse(q)?;
    Ok(pretty(&e, 0))
}

fn indent(level: usize) -> String {
    "  ".repeat(level)
}

/// Pretty-prints an expression at an indentation level.
pub fn pretty(e: &Expr, level: usize) -> String {
    let s = e.to_string();
    if s.len() <= MAX_CHARS {
        return format!("{}{}", indent(level), s);
    }
    match e {
        Expr::Log(l) => pretty_log(l, level),
        Expr::RangeAgg(r) => {
            let mut out = format!("{}{}(\n", indent(level), r.op.as_str());
            if let Some(p) = r.param {
                out.push_str(&format!("{}{},\n", indent(level + 1), crate::units::format_float(p)));
            }
            out.push_str(&pretty_range(&r.range, level + 1));
            out.push_str(&format!("\n{})", indent(level)));
            if let Some(g) = &r.grouping {
                out.push_str(&g.to_string());
            }
            out
        }
        Expr::VectorAgg(v) => {
            let mut out = format!("{}{}", indent(level), v.op.as_str());
            if !v.grouping.singleton() {
                out.push_str(&v.grouping.to_string());
            }
            out.push_str(" (\n");
            if let Some(p) = v.param {
                out.push_str(&format!("{}{},\n", indent(level + 1), p));
            }
            out.push_str(&pretty(&v.inner, level + 1));
            out.push_str(&format!("\n{})", indent(level)));
            out
        }
        Expr::BinOp(b) => {
            let full = e.to_string();
            let op_text = {
                // the operator with its modifiers, taken from the canonical form
                let l = b.lhs.to_string();
                let r = b.rhs.to_string();
                full[1 + l.len()..full.len() - 1 - r.len()].trim().to_string()
            };
            format!("{}\n{}{}\n{}", pretty(&b.lhs, level), indent(level), op_text, pretty(&b.rhs, level))
        }
        Expr::LabelReplace(l) => format!(
            "{}label_replace(\n{},\n{}{},\n{}{},\n{}{},\n{}{}\n{})",
            indent(level),
            pretty(&l.inner, level + 1),
            indent(level + 1),
            model::quote_go(&l.dst),
            indent(level + 1),
            model::quote_go(&l.replacement),
            indent(level + 1),
            model::quote_go(&l.src),
            indent(level + 1),
            model::quote_go(&l.regex),
            indent(level)
        ),
        Expr::Literal(_) | Expr::Vector(_) => format!("{}{}", indent(level), s),
    }
}

fn pretty_log(l: &LogExpr, level: usize) -> String {
    let sel = LogExpr { matchers: l.matchers.clone(), stages: vec![] }.to_string();
    let mut out = format!("{}{}", indent(level), sel);
    for s in &l.stages {
        out.push_str(&format!("\n{}{}", indent(level + 1), s));
    }
    out
}

fn pretty_range(r: &LogRange, level: usize) -> String {
    let mut out = if r.to_string().len() + level * 2 <= MAX_CHARS {
        return format!("{}{}", indent(level), r);
    } else {
        pretty_log(&r.log, level)
    };
    if let Some(u) = &r.unwrap {
        out.push_str(&format!("\n{}{}", indent(level + 1), u.to_string().trim_start()));
    }
    out.push_str(&format!(" [{}]", crate::units::format_prom_duration(r.interval)));
    if r.offset != 0 {
        out.push_str(&format!(" offset {}", crate::units::format_go_duration(r.offset)));
    }
    out
}
