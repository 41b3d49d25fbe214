//! The canonical printing of a syntax tree (Loki's `String()`): what `Display` writes.

use std::fmt::{self, Display, Write};

use model::{Matcher, quote_go};

use super::*;
use crate::go::{format_bytes, format_float, format_float_g, format_go_duration, format_prom_duration};
use crate::regexes::simplify_label_regex;

// Printing

fn write_matchers(f: &mut fmt::Formatter<'_>, ms: &[Matcher]) -> fmt::Result {
    f.write_str("{")?;
    for (i, m) in ms.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{m}")?;
    }
    f.write_str("}")
}

impl Display for LogExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_matchers(f, &self.matchers)?;
        if !self.stages.is_empty() {
            f.write_str(" ")?;
            for (i, s) in self.stages.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{s}")?;
            }
        }
        Ok(())
    }
}

impl Display for LineFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op.as_str())?;
        f.write_str(" ")?;
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            if a.ip {
                write!(f, "ip({})", quote_go(&a.value))?;
            } else {
                f.write_str(&quote_go(&a.value))?;
            }
        }
        Ok(())
    }
}

impl Display for LabelFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelFilter::Matcher(m) if m.op == model::MatchOp::Re && simplify_label_regex(&m.value).is_none() => {
                if m.value.contains('`') {
                    write!(f, "{}=~{}", m.name, quote_go(&m.value))
                } else {
                    write!(f, "{}=~`{}`", m.name, m.value)
                }
            }
            LabelFilter::Matcher(m) => write!(f, "{m}"),
            LabelFilter::Number { name, op, value } => {
                write!(f, "{name}{}{}", op.as_str(), format_float(*value))
            }
            LabelFilter::Duration { name, op, value } => {
                write!(f, "{name}{}{}", op.as_str(), format_go_duration(*value))
            }
            LabelFilter::Bytes { name, op, value } => {
                write!(f, "{name}{}{}", op.as_str(), format_bytes(*value))
            }
            LabelFilter::Ip { name, negate, pattern } => {
                write!(f, "{name}{}ip({})", if *negate { "!=" } else { "=" }, quote_go(pattern))
            }
            LabelFilter::And(a, b) => write!(f, "( {a} , {b} )"),
            LabelFilter::Or(a, b) => write!(f, "( {a} or {b} )"),
        }
    }
}

fn write_named(f: &mut fmt::Formatter<'_>, kw: &str, ms: &[NamedMatcher]) -> fmt::Result {
    write!(f, "| {kw} ")?;
    for (i, m) in ms.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        match &m.matcher {
            Some(mm) => write!(f, "{mm}")?,
            None => f.write_str(&m.name)?,
        }
    }
    Ok(())
}

fn write_extractions(f: &mut fmt::Formatter<'_>, exprs: &[(String, String)]) -> fmt::Result {
    for (i, (id, e)) in exprs.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "{id}={}", quote_go(e))?;
    }
    Ok(())
}

impl Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::LineFilter(lf) => write!(f, "{lf}"),
            Stage::Logfmt { strict, keep_empty } => {
                f.write_str("| logfmt")?;
                if *strict {
                    f.write_str(" --strict")?;
                }
                if *keep_empty {
                    f.write_str(" --keep-empty")?;
                }
                Ok(())
            }
            Stage::LogfmtExpr { strict, keep_empty, exprs } => {
                f.write_str("| logfmt ")?;
                if *strict {
                    f.write_str("--strict ")?;
                }
                if *keep_empty {
                    f.write_str("--keep-empty ")?;
                }
                write_extractions(f, exprs)
            }
            Stage::Json => f.write_str("| json"),
            Stage::JsonExpr(exprs) => {
                f.write_str("| json ")?;
                write_extractions(f, exprs)
            }
            Stage::Regexp(p) => write!(f, "| regexp {}", quote_go(p)),
            Stage::Pattern(p) => write!(f, "| pattern {}", quote_go(p)),
            Stage::Unpack => f.write_str("| unpack"),
            Stage::LabelFilter(lf) => write!(f, "| {lf}"),
            Stage::LineFormat(t) => write!(f, "| line_format {}", quote_go(t)),
            Stage::LabelFormat(fmts) => {
                f.write_str("| label_format ")?;
                for (i, l) in fmts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    if l.rename {
                        write!(f, "{}={}", l.name, l.value)?;
                    } else {
                        write!(f, "{}={}", l.name, quote_go(&l.value))?;
                    }
                }
                Ok(())
            }
            Stage::Decolorize => f.write_str("| decolorize"),
            Stage::Drop(ms) => write_named(f, "drop", ms),
            Stage::Keep(ms) => write_named(f, "keep", ms),
        }
    }
}

impl Display for Unwrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.conv {
            Some(c) => write!(f, " | unwrap {}({})", c.as_str(), self.label)?,
            None => write!(f, " | unwrap {}", self.label)?,
        }
        for p in &self.post_filters {
            write!(f, " | {p}")?;
        }
        Ok(())
    }
}

impl Display for LogRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.log)?;
        if let Some(u) = &self.unwrap {
            write!(f, "{u}")?;
        }
        write!(f, "[{}]", format_prom_duration(self.interval))?;
        if self.offset != 0 {
            write!(f, " offset {}", format_go_duration(self.offset))?;
        }
        Ok(())
    }
}

impl Display for Grouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, " {} ({})", if self.without { "without" } else { "by" }, self.labels.join(","))
    }
}

impl Display for BinOpOptions {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Log(l) => write!(f, "{l}"),
            Expr::RangeAgg(r) => {
                write!(f, "{}(", r.op.as_str())?;
                if let Some(p) = r.param {
                    write!(f, "{},", format_float(p))?;
                }
                write!(f, "{})", r.range)?;
                if let Some(g) = &r.grouping {
                    write!(f, "{g}")?;
                }
                Ok(())
            }
            Expr::VectorAgg(v) => {
                f.write_str(v.op.as_str())?;
                if !v.grouping.singleton() {
                    write!(f, "{}", v.grouping)?;
                }
                f.write_str("(")?;
                if let Some(p) = v.param {
                    write!(f, "{p},")?;
                }
                write!(f, "{})", v.inner)
            }
            Expr::BinOp(b) => {
                let mut op = b.op.as_str().to_string();
                let o = &b.opts;
                if o.return_bool {
                    op.push_str(" bool");
                }
                let mut group = match o.card {
                    Card::OneToOne => String::new(),
                    Card::ManyToOne => "group_left".to_string(),
                    Card::OneToMany => "group_right".to_string(),
                };
                if let Some(inc) = &o.include {
                    group = format!("{group} ({})", inc.join(","));
                }
                if o.on || o.matching.is_some() {
                    let kw = if o.on { "on" } else { "ignoring" };
                    let labels = o.matching.as_ref().map(|v| v.join(",")).unwrap_or_default();
                    let _ = write!(op, " {kw} ({labels}) {group}");
                }
                write!(f, "({} {} {})", b.lhs, op, b.rhs)
            }
            Expr::Literal(v) => f.write_str(&format_float_g(*v)),
            Expr::Vector(v) => write!(f, "vector({v:.6})"),
            Expr::LabelReplace(l) => write!(
                f,
                "label_replace({},{},{},{},{})",
                l.inner,
                quote_go(&l.dst),
                quote_go(&l.replacement),
                quote_go(&l.src),
                quote_go(&l.regex)
            ),
        }
    }
}

impl Expr {
    /// True for a log (stream) query, false for a metric query.
    pub fn is_log_query(&self) -> bool {
        matches!(self, Expr::Log(_))
    }

    /// The matchers of a plain selector without pipeline, if the query is one.
    pub fn selector_matchers(&self) -> Option<&[Matcher]> {
        match self {
            Expr::Log(l) if l.stages.is_empty() => Some(&l.matchers),
            _ => None,
        }
    }

    /// All log selectors (matcher lists) the query reads.
    pub fn selectors(&self) -> Vec<&[Matcher]> {
        let mut out = Vec::new();
        self.walk_selectors(&mut out);
        out
    }

    fn walk_selectors<'a>(&'a self, out: &mut Vec<&'a [Matcher]>) {
        match self {
            Expr::Log(l) => out.push(&l.matchers),
            Expr::RangeAgg(r) => out.push(&r.range.log.matchers),
            Expr::VectorAgg(v) => v.inner.walk_selectors(out),
            Expr::BinOp(b) => {
                b.lhs.walk_selectors(out);
                b.rhs.walk_selectors(out);
            }
            Expr::LabelReplace(l) => l.inner.walk_selectors(out),
            Expr::Literal(_) | Expr::Vector(_) => {}
        }
    }

    /// Whether the query contains `sort`/`sort_desc` (the API then keeps the engine's order).
    pub fn has_sort(&self) -> bool {
        match self {
            Expr::VectorAgg(v) => matches!(v.op, VecOp::Sort | VecOp::SortDesc) || v.inner.has_sort(),
            Expr::BinOp(b) => b.lhs.has_sort() || b.rhs.has_sort(),
            Expr::LabelReplace(l) => l.inner.has_sort(),
            _ => false,
        }
    }
}
