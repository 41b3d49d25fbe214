//! Loki's query prettifier (`/loki/api/v1/format_query`): expressions longer than 100
//! characters are split over several lines with two-space indentation per level.

use crate::ast::*;
use crate::error::ParseError;
use crate::go::{format_float_g, format_prom_duration};
use crate::parser::parse;

const MAX_CHARS: usize = 100;

/// Parses and pretty-prints a query.
pub fn format_query(q: &str) -> Result<String, ParseError> {
    format_query_width(q, MAX_CHARS)
}

/// Like `format_query` with another line width (Loki's tests use 20).
pub fn format_query_width(q: &str, width: usize) -> Result<String, ParseError> {
    Ok(pretty_w(&parse(q)?, 0, width))
}

fn indent(level: usize) -> String {
    "  ".repeat(level)
}

fn pretty_w(e: &Expr, level: usize, w: usize) -> String {
    let split = |s: &str| s.len() > w;
    let s = e.to_string();
    if !split(&s) {
        return format!("{}{}", indent(level), s);
    }
    match e {
        Expr::Log(l) => pretty_log(l, level, w),
        Expr::RangeAgg(r) => {
            let mut out = format!("{}{}(\n", indent(level), r.op.as_str());
            if let Some(p) = r.param {
                out.push_str(&format!("{}{},\n", indent(level + 1), format_float_g(p)));
            }
            out.push_str(&pretty_range(&r.range, level + 1, w));
            out.push_str(&format!("\n{})", indent(level)));
            if let Some(g) = &r.grouping {
                out.push_str(&pretty_grouping(g));
            }
            out
        }
        Expr::VectorAgg(v) => {
            let mut out = format!("{}{}{}(\n", indent(level), v.op.as_str(), pretty_grouping(&v.grouping));
            let left = pretty_w(&v.inner, level + 1, w);
            let params = match v.param {
                Some(p) => vec![format!("{}{}", indent(level + 1), p), left],
                None => vec![left],
            };
            out.push_str(&params.join(",\n"));
            out.push_str(&format!("\n{})", indent(level)));
            out
        }
        Expr::BinOp(b) => {
            format!(
                "{}\n{}{}\n{}",
                pretty_w(&b.lhs, level + 1, w),
                indent(level),
                binop(b),
                pretty_w(&b.rhs, level + 1, w)
            )
        }
        Expr::LabelReplace(l) => {
            let params = [
                pretty_w(&l.inner, level + 1, w),
                format!("{}{}", indent(level + 1), model::quote_go(&l.dst)),
                format!("{}{}", indent(level + 1), model::quote_go(&l.replacement)),
                format!("{}{}", indent(level + 1), model::quote_go(&l.src)),
                format!("{}{}", indent(level + 1), model::quote_go(&l.regex)),
            ];
            format!("{}label_replace(\n{}\n{})", indent(level), params.join(",\n"), indent(level))
        }
        Expr::Literal(_) | Expr::Vector(_) => format!("{}{}", indent(level), s),
    }
}

fn binop(b: &BinOpExpr) -> String {
    let o = &b.opts;
    let mut op = b.op.as_str().to_string();
    if o.return_bool {
        op.push_str(" bool");
    }
    let mut group = match o.card {
        Card::OneToOne => String::new(),
        Card::ManyToOne => "group_left".into(),
        Card::OneToMany => "group_right".into(),
    };
    if let Some(inc) = o.include.as_ref().filter(|i| !i.is_empty()) {
        group = format!("{group} ({})", inc.join(", "));
    }
    if let Some(m) = o.matching.as_ref().filter(|m| !m.is_empty()) {
        let kw = if o.on { "on" } else { "ignoring" };
        op = format!("{op} {kw} ({}) {group}", m.join(", "));
    }
    op
}

fn pretty_grouping(g: &Grouping) -> String {
    let mut s = String::new();
    if g.without {
        s.push_str(" without");
    } else if !g.labels.is_empty() {
        s.push_str(" by");
    }
    if !g.labels.is_empty() {
        s.push_str(&format!(" ({})", g.labels.join(", ")));
    }
    s
}

/// Stages as Loki groups them: consecutive line filters form one stage.
fn stage_groups(stages: &[Stage]) -> Vec<Vec<&Stage>> {
    let mut out: Vec<Vec<&Stage>> = Vec::new();
    for s in stages {
        let is_lf = matches!(s, Stage::LineFilter(_));
        match out.last_mut() {
            Some(g) if is_lf && matches!(g[0], Stage::LineFilter(_)) => g.push(s),
            _ => out.push(vec![s]),
        }
    }
    out
}

fn pretty_log(l: &LogExpr, level: usize, w: usize) -> String {
    let split = |s: &str| s.len() > w;
    let full = l.to_string();
    if !split(&full) || l.stages.is_empty() {
        return format!("{}{}", indent(level), full);
    }
    let sel = LogExpr { matchers: l.matchers.clone(), stages: vec![] }.to_string();
    let mut out = format!("{}{}\n", indent(level), sel);
    let groups = stage_groups(&l.stages);
    let n = groups.len();
    for (i, g) in groups.into_iter().enumerate() {
        let text = g.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" ");
        if matches!(g[0], Stage::Decolorize) {
            out.push_str(&text);
        } else if matches!(g[0], Stage::LineFilter(_)) && split(&text) {
            let lines: Vec<String> = g.iter().map(|s| format!("{}{}", indent(level + 1), s)).collect();
            out.push_str(&lines.join("\n"));
        } else {
            out.push_str(&format!("{}{}", indent(level + 1), text));
        }
        if i + 1 < n {
            out.push('\n');
        }
    }
    out
}

fn pretty_range(r: &LogRange, level: usize, w: usize) -> String {
    let mut out = pretty_log(&r.log, level, w);
    if let Some(u) = &r.unwrap {
        out.push('\n');
        out.push_str(&indent(level + 1));
        match u.conv {
            Some(c) => out.push_str(&format!("| unwrap {}({})", c.as_str(), u.label)),
            None => out.push_str(&format!("| unwrap {}", u.label)),
        }
        for f in &u.post_filters {
            out.push_str(&format!("\n{}| {f}", indent(level + 1)));
        }
    }
    out.push_str(&format!(" [{}]", format_prom_duration(r.interval)));
    if r.offset != 0 {
        out.push_str(&format!(" offset {}", format_prom_duration(r.offset)));
    }
    out
}
