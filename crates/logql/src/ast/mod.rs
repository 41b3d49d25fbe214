//! The LogQL syntax tree and its canonical printing (Loki's `String()`).

use std::fmt::{self, Display, Write};

use model::{Matcher, quote_go};

use crate::units::{format_bytes, format_float, format_float_g, format_go_duration, format_prom_duration};

/// A parsed LogQL query.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A log query: selector and pipeline.
    Log(LogExpr),
    RangeAgg(RangeAgg),
    VectorAgg(VectorAgg),
    BinOp(BinOpExpr),
    Literal(f64),
    Vector(f64),
    LabelReplace(LabelReplace),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogExpr {
    pub matchers: Vec<Matcher>,
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFilterOp {
    Contains,
    NotContains,
    Match,
    NotMatch,
    Pattern,
    NotPattern,
}

impl LineFilterOp {
    pub fn as_str(self) -> &'static str {
        match self {
            LineFilterOp::Contains => "|=",
            LineFilterOp::NotContains => "!=",
            LineFilterOp::Match => "|~",
            LineFilterOp::NotMatch => "!~",
            LineFilterOp::Pattern => "|>",
            LineFilterOp::NotPattern => "!>",
        }
    }
    pub fn is_negative(self) -> bool {
        matches!(self, LineFilterOp::NotContains | LineFilterOp::NotMatch | LineFilterOp::NotPattern)
    }
}

/// One alternative of a line filter: a string, or `ip("...")`.
#[derive(Debug, Clone, PartialEq)]
pub struct LineFilterArg {
    pub ip: bool,
    pub value: String,
}

/// A line filter with its `or` alternatives (only positive filters keep alternatives; the
/// parser splits `!= "a" or "b"` into two filters, as Loki does).
#[derive(Debug, Clone, PartialEq)]
pub struct LineFilter {
    pub op: LineFilterOp,
    pub args: Vec<LineFilterArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Neq => "!=",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
        }
    }
    pub fn cmp_f64(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Neq => a != b,
            CmpOp::Gt => a > b,
            CmpOp::Gte => a >= b,
            CmpOp::Lt => a < b,
            CmpOp::Lte => a <= b,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum LabelFilter {
    Matcher(Matcher),
    Number { name: String, op: CmpOp, value: f64 },
    Duration { name: String, op: CmpOp, value: i64 },
    Bytes { name: String, op: CmpOp, value: u64 },
    Ip { name: String, negate: bool, pattern: String },
    And(Box<LabelFilter>, Box<LabelFilter>),
    Or(Box<LabelFilter>, Box<LabelFilter>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabelFmt {
    pub name: String,
    pub value: String,
    pub rename: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NamedMatcher {
    pub name: String,
    pub matcher: Option<Matcher>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    LineFilter(LineFilter),
    Logfmt { strict: bool, keep_empty: bool },
    LogfmtExpr { strict: bool, keep_empty: bool, exprs: Vec<(String, String)> },
    Json,
    JsonExpr(Vec<(String, String)>),
    Regexp(String),
    Pattern(String),
    Unpack,
    LabelFilter(LabelFilter),
    LineFormat(String),
    LabelFormat(Vec<LabelFmt>),
    Decolorize,
    Drop(Vec<NamedMatcher>),
    Keep(Vec<NamedMatcher>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    Bytes,
    Duration,
    DurationSeconds,
}

impl Conv {
    pub fn as_str(self) -> &'static str {
        match self {
            Conv::Bytes => "bytes",
            Conv::Duration => "duration",
            Conv::DurationSeconds => "duration_seconds",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unwrap {
    pub label: String,
    pub conv: Option<Conv>,
    pub post_filters: Vec<LabelFilter>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogRange {
    pub log: LogExpr,
    /// Range in nanoseconds.
    pub interval: i64,
    pub offset: i64,
    pub unwrap: Option<Unwrap>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeOp {
    Count,
    Rate,
    RateCounter,
    Bytes,
    BytesRate,
    Avg,
    Sum,
    Min,
    Max,
    Stdvar,
    Stddev,
    Quantile,
    First,
    Last,
    Absent,
}

impl RangeOp {
    pub const ALL: [RangeOp; 15] = [
        RangeOp::Count,
        RangeOp::Rate,
        RangeOp::RateCounter,
        RangeOp::Bytes,
        RangeOp::BytesRate,
        RangeOp::Avg,
        RangeOp::Sum,
        RangeOp::Min,
        RangeOp::Max,
        RangeOp::Stdvar,
        RangeOp::Stddev,
        RangeOp::Quantile,
        RangeOp::First,
        RangeOp::Last,
        RangeOp::Absent,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RangeOp::Count => "count_over_time",
            RangeOp::Rate => "rate",
            RangeOp::RateCounter => "rate_counter",
            RangeOp::Bytes => "bytes_over_time",
            RangeOp::BytesRate => "bytes_rate",
            RangeOp::Avg => "avg_over_time",
            RangeOp::Sum => "sum_over_time",
            RangeOp::Min => "min_over_time",
            RangeOp::Max => "max_over_time",
            RangeOp::Stdvar => "stdvar_over_time",
            RangeOp::Stddev => "stddev_over_time",
            RangeOp::Quantile => "quantile_over_time",
            RangeOp::First => "first_over_time",
            RangeOp::Last => "last_over_time",
            RangeOp::Absent => "absent_over_time",
        }
    }
    pub fn from_name(s: &str) -> Option<RangeOp> {
        RangeOp::ALL.iter().copied().find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Grouping {
    pub without: bool,
    pub labels: Vec<String>,
}

impl Grouping {
    pub fn singleton(&self) -> bool {
        !self.without && self.labels.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RangeAgg {
    pub op: RangeOp,
    pub param: Option<f64>,
    pub range: LogRange,
    pub grouping: Option<Grouping>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VecOp {
    Sum,
    Avg,
    Count,
    Max,
    Min,
    Stddev,
    Stdvar,
    Bottomk,
    Topk,
    Sort,
    SortDesc,
    ApproxTopk,
}

impl VecOp {
    pub const ALL: [VecOp; 12] = [
        VecOp::Sum,
        VecOp::Avg,
        VecOp::Count,
        VecOp::Max,
        VecOp::Min,
        VecOp::Stddev,
        VecOp::Stdvar,
        VecOp::Bottomk,
        VecOp::Topk,
        VecOp::Sort,
        VecOp::SortDesc,
        VecOp::ApproxTopk,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            VecOp::Sum => "sum",
            VecOp::Avg => "avg",
            VecOp::Count => "count",
            VecOp::Max => "max",
            VecOp::Min => "min",
            VecOp::Stddev => "stddev",
            VecOp::Stdvar => "stdvar",
            VecOp::Bottomk => "bottomk",
            VecOp::Topk => "topk",
            VecOp::Sort => "sort",
            VecOp::SortDesc => "sort_desc",
            VecOp::ApproxTopk => "approx_topk",
        }
    }
    pub fn from_name(s: &str) -> Option<VecOp> {
        VecOp::ALL.iter().copied().find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct VectorAgg {
    pub op: VecOp,
    pub param: Option<i64>,
    pub inner: Box<Expr>,
    pub grouping: Grouping,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Unless,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    CmpEq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl BinOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Unless => "unless",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::CmpEq => "==",
            BinOp::Neq => "!=",
            BinOp::Gt => ">",
            BinOp::Gte => ">=",
            BinOp::Lt => "<",
            BinOp::Lte => "<=",
        }
    }
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And | BinOp::Unless => 2,
            BinOp::CmpEq | BinOp::Neq | BinOp::Gt | BinOp::Gte | BinOp::Lt | BinOp::Lte => 3,
            BinOp::Add | BinOp::Sub => 4,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 5,
            BinOp::Pow => 6,
        }
    }
    pub fn is_comparison(self) -> bool {
        self.precedence() == 3
    }
    pub fn is_set(self) -> bool {
        self.precedence() <= 2
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Card {
    #[default]
    OneToOne,
    ManyToOne,
    OneToMany,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BinOpOptions {
    pub return_bool: bool,
    pub card: Card,
    pub on: bool,
    /// `None` when no `on`/`ignoring` labels were given.
    pub matching: Option<Vec<String>>,
    /// `None` when `group_left`/`group_right` had no label list.
    pub include: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BinOpExpr {
    pub op: BinOp,
    pub lhs: Box<Expr>,
    pub rhs: Box<Expr>,
    pub opts: BinOpOptions,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabelReplace {
    pub inner: Box<Expr>,
    pub dst: String,
    pub replacement: String,
    pub src: String,
    pub regex: String,
}

// ---------------------------------------------------------------------------------------------
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
            LabelFilter::Matcher(m)
                if m.op == model::MatchOp::Re && crate::pipeline::simplify_label_regex(&m.value).is_none() =>
            {
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
