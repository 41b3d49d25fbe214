//! The LogQL syntax tree. Its canonical printing (Loki's `String()`) is in `print`.

mod print;

use model::Matcher;

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
