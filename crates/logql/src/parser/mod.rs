//! Recursive-descent LogQL parser with Pratt binary operators, mirroring Loki's `syntax.y`.

use model::{MatchOp, Matcher};

use crate::ast::*;
use crate::lexer::{Tok, Token, lex};
use crate::units::parse_go_float;

/// A parse error, printed the way Loki prints its `ParseError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub msg: String,
    pub line: usize,
    pub col: usize,
}

impl ParseError {
    /// An error without position (`parse error : msg`).
    pub fn new(msg: impl Into<String>) -> Self {
        ParseError { msg: msg.into(), line: 0, col: 0 }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 && self.col == 0 {
            write!(f, "parse error : {}", self.msg)
        } else {
            write!(f, "parse error at line {}, col {}: {}", self.line, self.col, self.msg)
        }
    }
}

impl std::error::Error for ParseError {}

type PResult<T> = Result<T, ParseError>;

/// The deepest nesting a query may have: the height of its syntax tree, counting aggregations,
/// binary operations, label-filter `and`/`or`/`,` and the log expression on the longest path
/// (parentheses only group and add no level). Every walk over a query (printer, prettifier,
/// evaluator) recurses once per level, so this bound keeps the deepest accepted query within a
/// 2 MiB thread stack (a tokio worker's) even in a debug build (tests/nesting.rs); real
/// queries nest a few levels.
pub const MAX_DEPTH: usize = 64;

/// The parser's own recursion (one level per parenthesis, aggregation argument and right-hand
/// operand) is bounded separately, looser than `MAX_DEPTH` because the canonical printing
/// parenthesises every binary operation and label-filter combination (two levels per node of a
/// right-nested chain): the printed form of any accepted query must parse again. In a debug
/// build one level of parentheses takes about 8 KiB of stack (a release build far less).
pub const MAX_RECURSION: usize = 2 * MAX_DEPTH + 8;

const EMPTY_MATCHERS_MSG: &str = "queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will";

/// Parses and validates a LogQL query.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    let e = parse_without_validation(input)?;
    validate(&e)?;
    Ok(e)
}

/// Parses without the selector validation (for `/series`-like uses).
pub fn parse_without_validation(input: &str) -> Result<Expr, ParseError> {
    if input.len() >= 131072 {
        return Err(ParseError::new(format!("input size too long ({} > 131072)", input.len())));
    }
    let toks = lex(input).map_err(|e| ParseError { msg: e.msg, line: e.line, col: e.col })?;
    let mut p = Parser { toks, i: 0, depth: 0, lf_height: 0 };
    let (e, _) = p.parse_expr(0)?;
    if p.peek() != &Tok::Eof {
        return Err(p.unexpected(&[]));
    }
    Ok(e)
}

/// Checks every selector has a matcher that doesn't accept the empty string.
pub fn validate_matchers(ms: &[Matcher]) -> Result<(), ParseError> {
    if ms.iter().any(|m| !m.matches_empty()) { Ok(()) } else { Err(ParseError::new(EMPTY_MATCHERS_MSG)) }
}

fn validate(e: &Expr) -> PResult<()> {
    for s in e.selectors() {
        validate_matchers(s)?;
    }
    Ok(())
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
    /// Nesting of the recursive calls in progress (bounded by `MAX_DEPTH`).
    depth: usize,
    /// The height of the tallest label filter of the log expression being parsed.
    lf_height: usize,
}

/// The height of a parsed node (a leaf is 1), returned beside it so that chains built in a loop
/// (`a or b or c ...`, `x + y + z ...`) are bounded as they grow.
type Height = usize;

fn binop_of(t: &Tok) -> Option<BinOp> {
    Some(match t {
        Tok::Kw("or") => BinOp::Or,
        Tok::Kw("and") => BinOp::And,
        Tok::Kw("unless") => BinOp::Unless,
        Tok::Add => BinOp::Add,
        Tok::Sub => BinOp::Sub,
        Tok::Mul => BinOp::Mul,
        Tok::Div => BinOp::Div,
        Tok::Mod => BinOp::Mod,
        Tok::Pow => BinOp::Pow,
        Tok::CmpEq => BinOp::CmpEq,
        Tok::Neq => BinOp::Neq,
        Tok::Gt => BinOp::Gt,
        Tok::Gte => BinOp::Gte,
        Tok::Lt => BinOp::Lt,
        Tok::Lte => BinOp::Lte,
        _ => return None,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum LfCtx {
    Top,
    OrRight,
    AndRight,
    CommaRight,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.i].tok
    }
    fn peek_at(&self, n: usize) -> &Tok {
        let j = (self.i + n).min(self.toks.len() - 1);
        &self.toks[j].tok
    }
    fn bump(&mut self) -> Tok {
        let t = self.toks[self.i].tok.clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }
    fn unexpected(&self, expecting: &[&str]) -> ParseError {
        let t = &self.toks[self.i];
        let mut msg = format!("syntax error: unexpected {}", t.tok.name());
        if !expecting.is_empty() && expecting.len() <= 4 {
            msg.push_str(", expecting ");
            msg.push_str(&expecting.join(" or "));
        }
        ParseError { msg, line: t.line, col: t.col }
    }
    fn too_deep(&self) -> ParseError {
        let t = &self.toks[self.i];
        ParseError { msg: format!("query nesting too deep (max {MAX_DEPTH})"), line: t.line, col: t.col }
    }
    /// One more level of recursion; refused past `MAX_DEPTH` (the error ends the parse, so no
    /// `leave` is needed on that path).
    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_RECURSION { Err(self.too_deep()) } else { Ok(()) }
    }
    fn leave(&mut self) {
        self.depth -= 1;
    }
    /// Checks the height of a node about to be built.
    fn check(&self, h: Height) -> PResult<Height> {
        if h > MAX_DEPTH { Err(self.too_deep()) } else { Ok(h) }
    }
    fn expect(&mut self, t: Tok, name: &str) -> PResult<()> {
        if *self.peek() == t {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected(&[name]))
        }
    }
    fn expect_str(&mut self) -> PResult<String> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                Ok(s)
            }
            _ => Err(self.unexpected(&["STRING"])),
        }
    }
    fn expect_ident(&mut self) -> PResult<String> {
        match self.peek().clone() {
            Tok::Ident(s) => {
                self.bump();
                Ok(s)
            }
            _ => Err(self.unexpected(&["IDENTIFIER"])),
        }
    }

    // ---------------------------------------------------------------- expressions

    fn parse_expr(&mut self, min_prec: u8) -> PResult<(Expr, Height)> {
        self.enter()?;
        let (mut lhs, mut h) = self.parse_primary()?;
        while let Some(op) = binop_of(self.peek()) {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.bump();
            let opts = self.parse_bin_modifiers()?;
            let next_min = if op == BinOp::Pow { prec } else { prec + 1 };
            let (rhs, hr) = self.parse_expr(next_min)?;
            h = self.check(h.max(hr) + 1)?;
            lhs = make_binop(op, opts, lhs, rhs)?;
        }
        self.leave();
        Ok((lhs, h))
    }

    fn parse_label_list(&mut self) -> PResult<Vec<String>> {
        // after '(' ; returns labels up to and including ')'
        let mut out = Vec::new();
        if *self.peek() == Tok::RParen {
            self.bump();
            return Ok(out);
        }
        if !matches!(self.peek(), Tok::Ident(_)) {
            return Err(self.unexpected(&["IDENTIFIER", ")"]));
        }
        loop {
            out.push(self.expect_ident()?);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {
                    self.bump();
                    return Ok(out);
                }
                _ => return Err(self.unexpected(&[",", ")"])),
            }
        }
    }

    fn parse_bin_modifiers(&mut self) -> PResult<BinOpOptions> {
        let mut o = BinOpOptions::default();
        if *self.peek() == Tok::Kw("bool") {
            self.bump();
            o.return_bool = true;
        }
        let on = match self.peek() {
            Tok::Kw("on") => Some(true),
            Tok::Kw("ignoring") => Some(false),
            _ => None,
        };
        if let Some(on) = on {
            self.bump();
            self.expect(Tok::LParen, "(")?;
            let labels = self.parse_label_list()?;
            o.on = on;
            o.matching = if labels.is_empty() { None } else { Some(labels) };
            let card = match self.peek() {
                Tok::Kw("group_left") => Some(Card::ManyToOne),
                Tok::Kw("group_right") => Some(Card::OneToMany),
                _ => None,
            };
            if let Some(card) = card {
                self.bump();
                o.card = card;
                if *self.peek() == Tok::LParen {
                    self.bump();
                    let inc = self.parse_label_list()?;
                    o.include = if inc.is_empty() { None } else { Some(inc) };
                }
            }
        }
        Ok(o)
    }

    fn parse_primary(&mut self) -> PResult<(Expr, Height)> {
        match self.peek().clone() {
            Tok::Func(name) => {
                if let Some(op) = RangeOp::from_name(name) {
                    let saved = std::mem::take(&mut self.lf_height);
                    let e = self.parse_range_agg(op)?;
                    let lf = std::mem::replace(&mut self.lf_height, saved);
                    Ok((e, self.check(lf + 2)?))
                } else if let Some(op) = VecOp::from_name(name) {
                    self.parse_vector_agg(op)
                } else if name == "vector" {
                    Ok((self.parse_vector()?, 1))
                } else if name == "label_replace" {
                    self.parse_label_replace()
                } else {
                    Err(self.unexpected(&[]))
                }
            }
            Tok::Kw("label_replace") => self.parse_label_replace(),
            Tok::Number(n) => {
                self.bump();
                Ok((literal(&n, false)?, 1))
            }
            Tok::Add | Tok::Sub => {
                let neg = *self.peek() == Tok::Sub;
                self.bump();
                match self.peek().clone() {
                    Tok::Number(n) => {
                        self.bump();
                        Ok((literal(&n, neg)?, 1))
                    }
                    _ => Err(self.unexpected(&["NUMBER"])),
                }
            }
            Tok::LBrace => {
                let saved = std::mem::take(&mut self.lf_height);
                let e = Expr::Log(self.parse_log_expr()?);
                let lf = std::mem::replace(&mut self.lf_height, saved);
                Ok((e, self.check(lf + 1)?))
            }
            Tok::LParen => {
                self.bump();
                let (e, h) = self.parse_expr(0)?;
                self.expect(Tok::RParen, ")")?;
                Ok((e, h))
            }
            _ => Err(self.unexpected(&[])),
        }
    }

    fn parse_vector(&mut self) -> PResult<Expr> {
        self.bump();
        self.expect(Tok::LParen, "(")?;
        let n = match self.peek().clone() {
            Tok::Number(n) => {
                self.bump();
                n
            }
            _ => return Err(self.unexpected(&["NUMBER"])),
        };
        self.expect(Tok::RParen, ")")?;
        let v =
            parse_go_float(&n).map_err(|e| ParseError::new(format!("unable to parse vectorExpr as a float: {e}")))?;
        Ok(Expr::Vector(v))
    }

    fn parse_label_replace(&mut self) -> PResult<(Expr, Height)> {
        self.bump();
        self.expect(Tok::LParen, "(")?;
        let (inner, h) = self.parse_expr(0)?;
        let h = self.check(h + 1)?;
        if inner.is_log_query() {
            return Err(self.unexpected(&[]));
        }
        let mut args = Vec::new();
        for _ in 0..4 {
            self.expect(Tok::Comma, ",")?;
            args.push(self.expect_str()?);
        }
        self.expect(Tok::RParen, ")")?;
        let regex = args.pop().unwrap();
        let src = args.pop().unwrap();
        let replacement = args.pop().unwrap();
        let dst = args.pop().unwrap();
        if let Err(e) = model::goregex::compile(&format!("^(?:{regex})$")) {
            return Err(ParseError::new(format!("invalid regex in label_replace: {}", regex_err(&regex, &e))));
        }
        Ok((Expr::LabelReplace(LabelReplace { inner: Box::new(inner), dst, replacement, src, regex }), h))
    }

    fn parse_grouping(&mut self) -> PResult<Option<Grouping>> {
        let without = match self.peek() {
            Tok::Kw("by") => false,
            Tok::Kw("without") => true,
            _ => return Ok(None),
        };
        self.bump();
        self.expect(Tok::LParen, "(")?;
        let labels = self.parse_label_list()?;
        Ok(Some(Grouping { without, labels }))
    }

    fn parse_range_agg(&mut self, op: RangeOp) -> PResult<Expr> {
        self.bump();
        self.expect(Tok::LParen, "(")?;
        let mut param = None;
        if let Tok::Number(n) = self.peek().clone()
            && *self.peek_at(1) == Tok::Comma
        {
            self.bump();
            self.bump();
            param = Some(n);
        }
        if !matches!(self.peek(), Tok::Number(_) | Tok::LBrace | Tok::LParen) {
            return Err(self.unexpected(&["NUMBER", "{", "("]));
        }
        let range = self.parse_log_range()?;
        self.expect(Tok::RParen, ")")?;
        let grouping = self.parse_grouping()?;
        let op_s = op.as_str();
        let param = match param {
            Some(p) => {
                if op != RangeOp::Quantile {
                    return Err(ParseError::new(format!("parameter {p} not supported for operation {op_s}")));
                }
                Some(
                    parse_go_float(&p)
                        .map_err(|e| ParseError::new(format!("invalid parameter for operation {op_s}: {e}")))?,
                )
            }
            None => {
                if op == RangeOp::Quantile {
                    return Err(ParseError::new(format!("parameter required for operation {op_s}")));
                }
                None
            }
        };
        if grouping.is_some()
            && !matches!(
                op,
                RangeOp::Avg
                    | RangeOp::Stddev
                    | RangeOp::Stdvar
                    | RangeOp::Quantile
                    | RangeOp::Max
                    | RangeOp::Min
                    | RangeOp::First
                    | RangeOp::Last
            )
        {
            return Err(ParseError::new(format!("grouping not allowed for {op_s} aggregation")));
        }
        if range.unwrap.is_some() {
            if matches!(op, RangeOp::Count | RangeOp::Bytes | RangeOp::BytesRate) {
                return Err(ParseError::new(format!("invalid aggregation {op_s} with unwrap")));
            }
        } else if !matches!(op, RangeOp::Bytes | RangeOp::BytesRate | RangeOp::Count | RangeOp::Rate | RangeOp::Absent)
        {
            return Err(ParseError::new(format!("invalid aggregation {op_s} without unwrap")));
        }
        Ok(Expr::RangeAgg(RangeAgg { op, param, range, grouping }))
    }

    fn parse_vector_agg(&mut self, op: VecOp) -> PResult<(Expr, Height)> {
        self.bump();
        let before = self.parse_grouping()?;
        self.expect(Tok::LParen, "(")?;
        let mut param = None;
        if let Tok::Number(n) = self.peek().clone()
            && *self.peek_at(1) == Tok::Comma
        {
            self.bump();
            self.bump();
            param = Some(n);
        }
        let (inner, h) = self.parse_expr(0)?;
        let h = self.check(h + 1)?;
        if inner.is_log_query() {
            return Err(self.unexpected(&[]));
        }
        self.expect(Tok::RParen, ")")?;
        let grouping = if before.is_none() { self.parse_grouping()? } else { before };
        let op_s = op.as_str();
        let mut p = None;
        match op {
            VecOp::Bottomk | VecOp::Topk | VecOp::ApproxTopk => {
                let Some(ps) = param else {
                    return Err(ParseError::new(format!("parameter required for operation {op_s}")));
                };
                let v: i64 =
                    parse_go_atoi(&ps).ok_or_else(|| ParseError::new(format!("invalid parameter {op_s}({ps},")))?;
                if v <= 0 {
                    return Err(ParseError::new(format!("invalid parameter (must be greater than 0) {op_s}({ps}")));
                }
                if op == VecOp::ApproxTopk && grouping.is_some() {
                    return Err(ParseError::new(format!("grouping not allowed for {op_s} aggregation")));
                }
                p = Some(v);
            }
            _ => {
                if let Some(ps) = param {
                    return Err(ParseError::new(format!("unsupported parameter for operation {op_s}({ps},")));
                }
            }
        }
        let grouping = grouping.unwrap_or(Grouping { without: false, labels: vec![] });
        if matches!(op, VecOp::Sort | VecOp::SortDesc) && !grouping.labels.is_empty() {
            return Err(ParseError::new("sort and sort_desc doesn't allow grouping by "));
        }
        Ok((Expr::VectorAgg(VectorAgg { op, param: p, inner: Box::new(inner), grouping }), h))
    }

    // ---------------------------------------------------------------- log ranges

    fn parse_offset(&mut self) -> PResult<i64> {
        if *self.peek() == Tok::Kw("offset") {
            self.bump();
            match self.peek().clone() {
                Tok::Duration(d) => {
                    self.bump();
                    Ok(d)
                }
                _ => Err(self.unexpected(&["DURATION"])),
            }
        } else {
            Ok(0)
        }
    }

    fn at_unwrap(&self) -> bool {
        *self.peek() == Tok::Pipe && *self.peek_at(1) == Tok::Kw("unwrap")
    }

    fn parse_log_range(&mut self) -> PResult<LogRange> {
        if *self.peek() == Tok::LParen {
            self.bump();
            if *self.peek() == Tok::LParen {
                self.enter()?;
                let r = self.parse_log_range()?;
                self.leave();
                self.expect(Tok::RParen, ")")?;
                return Ok(r);
            }
            let log = self.parse_selector_and_pipeline()?;
            if let Tok::Range(d) = self.peek().clone() {
                // "(" logRangeExpr ")"
                self.bump();
                let mut r = LogRange { log, interval: d, offset: 0, unwrap: None };
                r.offset = self.parse_offset()?;
                if r.log.stages.is_empty() && self.starts_stage() {
                    r.log.stages = self.parse_stages()?;
                }
                if self.at_unwrap() {
                    r.unwrap = Some(self.parse_unwrap()?);
                }
                self.expect(Tok::RParen, ")")?;
                return Ok(r);
            }
            let unwrap = if self.at_unwrap() { Some(self.parse_unwrap()?) } else { None };
            self.expect(Tok::RParen, ")")?;
            let Tok::Range(d) = self.peek().clone() else {
                return Err(self.unexpected(&["RANGE"]));
            };
            self.bump();
            let offset = self.parse_offset()?;
            return Ok(LogRange { log, interval: d, offset, unwrap });
        }
        if *self.peek() != Tok::LBrace {
            return Err(self.unexpected(&[]));
        }
        let matchers = self.parse_selector()?;
        if let Tok::Range(d) = self.peek().clone() {
            self.bump();
            let offset = self.parse_offset()?;
            let stages = if self.starts_stage() { self.parse_stages()? } else { vec![] };
            let unwrap = if self.at_unwrap() { Some(self.parse_unwrap()?) } else { None };
            return Ok(LogRange { log: LogExpr { matchers, stages }, interval: d, offset, unwrap });
        }
        let stages = if self.starts_stage() { self.parse_stages()? } else { vec![] };
        let unwrap = if self.at_unwrap() { Some(self.parse_unwrap()?) } else { None };
        let Tok::Range(d) = self.peek().clone() else {
            return Err(self.unexpected(&[]));
        };
        self.bump();
        let offset = self.parse_offset()?;
        Ok(LogRange { log: LogExpr { matchers, stages }, interval: d, offset, unwrap })
    }

    fn parse_selector_and_pipeline(&mut self) -> PResult<LogExpr> {
        if *self.peek() != Tok::LBrace {
            return Err(self.unexpected(&["{"]));
        }
        let matchers = self.parse_selector()?;
        let stages = if self.starts_stage() { self.parse_stages()? } else { vec![] };
        Ok(LogExpr { matchers, stages })
    }

    fn parse_unwrap(&mut self) -> PResult<Unwrap> {
        self.bump(); // |
        self.bump(); // unwrap
        let (label, conv) = match self.peek().clone() {
            Tok::Ident(s) => {
                self.bump();
                (s, None)
            }
            Tok::Func(f @ ("bytes" | "duration" | "duration_seconds")) => {
                self.bump();
                self.expect(Tok::LParen, "(")?;
                let id = self.expect_ident()?;
                self.expect(Tok::RParen, ")")?;
                let c = match f {
                    "bytes" => Conv::Bytes,
                    "duration" => Conv::Duration,
                    _ => Conv::DurationSeconds,
                };
                (id, Some(c))
            }
            _ => return Err(self.unexpected(&[])),
        };
        let mut post_filters = Vec::new();
        while *self.peek() == Tok::Pipe && matches!(self.peek_at(1), Tok::Ident(_) | Tok::LParen) {
            self.bump();
            let (f, h) = self.parse_label_filter(LfCtx::Top)?;
            self.lf_height = self.lf_height.max(h);
            post_filters.push(f);
        }
        Ok(Unwrap { label, conv, post_filters })
    }

    // ---------------------------------------------------------------- log queries

    fn parse_log_expr(&mut self) -> PResult<LogExpr> {
        let matchers = self.parse_selector()?;
        let stages = if self.starts_stage() { self.parse_stages()? } else { vec![] };
        Ok(LogExpr { matchers, stages })
    }

    fn parse_selector(&mut self) -> PResult<Vec<Matcher>> {
        self.expect(Tok::LBrace, "{")?;
        let mut out = Vec::new();
        if *self.peek() == Tok::RBrace {
            self.bump();
            return Ok(out);
        }
        loop {
            out.push(self.parse_matcher()?);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RBrace => {
                    self.bump();
                    return Ok(out);
                }
                _ => return Err(self.unexpected(&["}", ","])),
            }
        }
    }

    fn parse_matcher(&mut self) -> PResult<Matcher> {
        let name = self.expect_ident()?;
        let op = match self.peek() {
            Tok::Eq => MatchOp::Eq,
            Tok::Neq => MatchOp::Neq,
            Tok::Re => MatchOp::Re,
            Tok::Nre => MatchOp::Nre,
            _ => return Err(self.unexpected(&["=", "!=", "=~", "!~"])),
        };
        self.bump();
        let value = self.expect_str()?;
        new_matcher(&name, op, &value)
    }

    fn starts_stage(&self) -> bool {
        match self.peek() {
            Tok::PipeExact | Tok::PipeMatch | Tok::PipePattern | Tok::Nre | Tok::Neq | Tok::Npa => true,
            Tok::Pipe => *self.peek_at(1) != Tok::Kw("unwrap"),
            _ => false,
        }
    }

    fn parse_stages(&mut self) -> PResult<Vec<Stage>> {
        let mut out = Vec::new();
        while self.starts_stage() {
            if *self.peek() == Tok::Pipe {
                self.bump();
                out.push(self.parse_pipe_stage()?);
            } else {
                self.parse_line_filter(&mut out)?;
            }
        }
        Ok(out)
    }

    fn parse_filter_arg(&mut self) -> PResult<LineFilterArg> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                Ok(LineFilterArg { ip: false, value: s })
            }
            Tok::Func("ip") | Tok::Kw("ip") => {
                self.bump();
                self.expect(Tok::LParen, "(")?;
                let s = self.expect_str()?;
                self.expect(Tok::RParen, ")")?;
                Ok(LineFilterArg { ip: true, value: s })
            }
            _ => Err(self.unexpected(&["STRING", "ip"])),
        }
    }

    fn parse_line_filter(&mut self, out: &mut Vec<Stage>) -> PResult<()> {
        let op = match self.bump() {
            Tok::PipeExact => LineFilterOp::Contains,
            Tok::PipeMatch => LineFilterOp::Match,
            Tok::PipePattern => LineFilterOp::Pattern,
            Tok::Nre => LineFilterOp::NotMatch,
            Tok::Neq => LineFilterOp::NotContains,
            _ => LineFilterOp::NotPattern,
        };
        let mut args = vec![self.parse_filter_arg()?];
        while *self.peek() == Tok::Kw("or") {
            self.bump();
            args.push(self.parse_filter_arg()?);
        }
        if op.is_negative() {
            for a in args {
                out.push(Stage::LineFilter(LineFilter { op, args: vec![a] }));
            }
        } else {
            out.push(Stage::LineFilter(LineFilter { op, args }));
        }
        Ok(())
    }

    fn parse_extractions(&mut self) -> PResult<Vec<(String, String)>> {
        let mut out = Vec::new();
        loop {
            let id = self.expect_ident()?;
            if *self.peek() == Tok::Eq {
                self.bump();
                let s = self.expect_str()?;
                out.push((id, s));
            } else {
                out.push((id.clone(), id));
            }
            if *self.peek() == Tok::Comma {
                self.bump();
            } else {
                return Ok(out);
            }
        }
    }

    fn parse_named_matchers(&mut self) -> PResult<Vec<NamedMatcher>> {
        let mut out = Vec::new();
        loop {
            let name = self.expect_ident()?;
            let op = match self.peek() {
                Tok::Eq => Some(MatchOp::Eq),
                Tok::Neq => Some(MatchOp::Neq),
                Tok::Re => Some(MatchOp::Re),
                Tok::Nre => Some(MatchOp::Nre),
                _ => None,
            };
            match op {
                Some(op) => {
                    self.bump();
                    let v = self.expect_str()?;
                    out.push(NamedMatcher { name: String::new(), matcher: Some(new_matcher(&name, op, &v)?) });
                }
                None => out.push(NamedMatcher { name, matcher: None }),
            }
            if *self.peek() == Tok::Comma {
                self.bump();
            } else {
                return Ok(out);
            }
        }
    }

    fn parse_pipe_stage(&mut self) -> PResult<Stage> {
        match self.peek().clone() {
            Tok::Kw("logfmt") => {
                self.bump();
                let (mut strict, mut keep_empty, mut any_flag) = (false, false, false);
                while let Tok::Flag(f) = self.peek().clone() {
                    self.bump();
                    any_flag = true;
                    if f == "--strict" {
                        strict = true;
                    } else {
                        keep_empty = true;
                    }
                }
                let _ = any_flag;
                if matches!(self.peek(), Tok::Ident(_)) {
                    let exprs = self.parse_extractions()?;
                    Ok(Stage::LogfmtExpr { strict, keep_empty, exprs })
                } else {
                    Ok(Stage::Logfmt { strict, keep_empty })
                }
            }
            Tok::Kw("json") => {
                self.bump();
                if matches!(self.peek(), Tok::Ident(_)) {
                    Ok(Stage::JsonExpr(self.parse_extractions()?))
                } else {
                    Ok(Stage::Json)
                }
            }
            Tok::Kw("regexp") => {
                self.bump();
                let s = self.expect_str()?;
                if let Err(e) = crate::pipeline::RegexpParser::new(&s) {
                    return Err(ParseError::new(format!("invalid regexp parser: {e}")));
                }
                Ok(Stage::Regexp(s))
            }
            Tok::Kw("pattern") => {
                self.bump();
                let s = self.expect_str()?;
                if let Err(e) = crate::pattern::Pattern::parse(&s) {
                    return Err(ParseError::new(format!("invalid pattern parser: {e}")));
                }
                Ok(Stage::Pattern(s))
            }
            Tok::Kw("unpack") => {
                self.bump();
                Ok(Stage::Unpack)
            }
            Tok::Kw("line_format") => {
                self.bump();
                Ok(Stage::LineFormat(self.expect_str()?))
            }
            Tok::Kw("decolorize") => {
                self.bump();
                Ok(Stage::Decolorize)
            }
            Tok::Kw("label_format") => {
                self.bump();
                let mut fmts = Vec::new();
                loop {
                    let name = self.expect_ident()?;
                    self.expect(Tok::Eq, "=")?;
                    match self.peek().clone() {
                        Tok::Ident(src) => {
                            self.bump();
                            fmts.push(LabelFmt { name, value: src, rename: true });
                        }
                        Tok::Str(s) => {
                            self.bump();
                            fmts.push(LabelFmt { name, value: s, rename: false });
                        }
                        _ => return Err(self.unexpected(&["IDENTIFIER", "STRING"])),
                    }
                    if *self.peek() == Tok::Comma {
                        self.bump();
                    } else {
                        break;
                    }
                }
                Ok(Stage::LabelFormat(fmts))
            }
            Tok::Kw("drop") => {
                self.bump();
                Ok(Stage::Drop(self.parse_named_matchers()?))
            }
            Tok::Kw("keep") => {
                self.bump();
                Ok(Stage::Keep(self.parse_named_matchers()?))
            }
            Tok::Ident(_) | Tok::LParen => {
                let (f, h) = self.parse_label_filter(LfCtx::Top)?;
                self.lf_height = self.lf_height.max(h);
                Ok(Stage::LabelFilter(f))
            }
            _ => Err(self.unexpected(&[])),
        }
    }

    // ---------------------------------------------------------------- label filters

    fn parse_label_filter(&mut self, ctx: LfCtx) -> PResult<(LabelFilter, Height)> {
        self.enter()?;
        let (mut left, mut h) = self.parse_lf_primary()?;
        loop {
            match self.peek() {
                Tok::Kw("or") => {
                    if matches!(ctx, LfCtx::OrRight | LfCtx::AndRight) {
                        break;
                    }
                    self.bump();
                    let (right, hr) = self.parse_label_filter(LfCtx::OrRight)?;
                    h = self.check(h.max(hr) + 1)?;
                    left = LabelFilter::Or(Box::new(left), Box::new(right));
                }
                Tok::Kw("and") => {
                    if ctx == LfCtx::AndRight {
                        break;
                    }
                    self.bump();
                    let (right, hr) = self.parse_label_filter(LfCtx::AndRight)?;
                    h = self.check(h.max(hr) + 1)?;
                    left = LabelFilter::And(Box::new(left), Box::new(right));
                }
                Tok::Comma => {
                    self.bump();
                    let (right, hr) = self.parse_label_filter(LfCtx::CommaRight)?;
                    h = self.check(h.max(hr) + 1)?;
                    left = LabelFilter::And(Box::new(left), Box::new(right));
                }
                Tok::Ident(_) | Tok::LParen => {
                    let (right, hr) = self.parse_label_filter(LfCtx::CommaRight)?;
                    h = self.check(h.max(hr) + 1)?;
                    left = LabelFilter::And(Box::new(left), Box::new(right));
                }
                _ => break,
            }
        }
        self.leave();
        Ok((left, h))
    }

    fn parse_lf_primary(&mut self) -> PResult<(LabelFilter, Height)> {
        if *self.peek() == Tok::LParen {
            self.bump();
            let (f, h) = self.parse_label_filter(LfCtx::Top)?;
            self.expect(Tok::RParen, ")")?;
            return Ok((f, h));
        }
        Ok((self.parse_lf_leaf()?, 1))
    }

    fn parse_lf_leaf(&mut self) -> PResult<LabelFilter> {
        let name = self.expect_ident()?;
        let optok = self.peek().clone();
        let cmp = match optok {
            Tok::Eq => CmpOp::Eq,
            Tok::CmpEq => CmpOp::Eq,
            Tok::Neq => CmpOp::Neq,
            Tok::Gt => CmpOp::Gt,
            Tok::Gte => CmpOp::Gte,
            Tok::Lt => CmpOp::Lt,
            Tok::Lte => CmpOp::Lte,
            Tok::Re | Tok::Nre => {
                self.bump();
                let v = self.expect_str()?;
                let op = if optok == Tok::Re { MatchOp::Re } else { MatchOp::Nre };
                return Ok(LabelFilter::Matcher(new_matcher(&name, op, &v)?));
            }
            _ => return Err(self.unexpected(&[])),
        };
        self.bump();
        let value = self.peek().clone();
        match value {
            Tok::Str(s) if matches!(optok, Tok::Eq | Tok::Neq) => {
                self.bump();
                let op = if optok == Tok::Eq { MatchOp::Eq } else { MatchOp::Neq };
                Ok(LabelFilter::Matcher(new_matcher(&name, op, &s)?))
            }
            Tok::Kw("ip") | Tok::Func("ip") if matches!(optok, Tok::Eq | Tok::Neq) => {
                self.bump();
                self.expect(Tok::LParen, "(")?;
                let s = self.expect_str()?;
                self.expect(Tok::RParen, ")")?;
                Ok(LabelFilter::Ip { name, negate: optok == Tok::Neq, pattern: s })
            }
            Tok::Duration(d) => {
                self.bump();
                Ok(LabelFilter::Duration { name, op: cmp, value: d })
            }
            Tok::Bytes(b) => {
                self.bump();
                Ok(LabelFilter::Bytes { name, op: cmp, value: b })
            }
            Tok::Number(n) => {
                self.bump();
                let Expr::Literal(v) = literal(&n, false)? else { unreachable!() };
                Ok(LabelFilter::Number { name, op: cmp, value: v })
            }
            Tok::Add | Tok::Sub => {
                let neg = value == Tok::Sub;
                self.bump();
                match self.peek().clone() {
                    Tok::Number(n) => {
                        self.bump();
                        let Expr::Literal(v) = literal(&n, neg)? else { unreachable!() };
                        Ok(LabelFilter::Number { name, op: cmp, value: v })
                    }
                    _ => Err(self.unexpected(&["NUMBER"])),
                }
            }
            _ => Err(self.unexpected(&[])),
        }
    }
}

/// Go's `strconv.Atoi`.
fn parse_go_atoi(s: &str) -> Option<i64> {
    let b = s.strip_prefix('+').unwrap_or(s);
    if b.is_empty() || !b.trim_start_matches('-').bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn literal(n: &str, neg: bool) -> PResult<Expr> {
    let v = parse_go_float(n).map_err(|e| ParseError::new(format!("unable to parse literal as a float: {e}")))?;
    Ok(Expr::Literal(if neg { -v } else { v }))
}

pub(crate) fn regex_err(pattern: &str, e: &regex::Error) -> String {
    crate::units::go_regex_error(pattern, e)
}

fn new_matcher(name: &str, op: MatchOp, value: &str) -> PResult<Matcher> {
    Matcher::new(name, op, value).map_err(|e| match regex::Regex::new(value) {
        Err(re) => ParseError::new(regex_err(value, &re)),
        Ok(_) => ParseError::new(format!("error parsing regexp: {}", e.0)),
    })
}

fn go_type_name(e: &Expr) -> &'static str {
    match e {
        Expr::Log(l) if l.stages.is_empty() => "*syntax.MatchersExpr",
        Expr::Log(_) => "*syntax.PipelineExpr",
        _ => "*syntax.LiteralExpr",
    }
}

fn make_binop(op: BinOp, opts: BinOpOptions, lhs: Expr, rhs: Expr) -> PResult<Expr> {
    if lhs.is_log_query() {
        return Err(ParseError::new(format!(
            "unexpected type for left leg of binary operation ({}): {}",
            op.as_str(),
            go_type_name(&lhs)
        )));
    }
    if rhs.is_log_query() {
        return Err(ParseError::new(format!(
            "unexpected type for right leg of binary operation ({}): {}",
            op.as_str(),
            go_type_name(&rhs)
        )));
    }
    if op.is_set() {
        if let Expr::Literal(v) = lhs {
            return Err(ParseError::new(format!(
                "unexpected literal for left leg of logical/set binary operation ({}): {v:.6}",
                op.as_str()
            )));
        }
        if let Expr::Literal(v) = rhs {
            return Err(ParseError::new(format!(
                "unexpected literal for right leg of logical/set binary operation ({}): {v:.6}",
                op.as_str()
            )));
        }
    }
    if let (Expr::Literal(a), Expr::Literal(b)) = (&lhs, &rhs) {
        return Ok(Expr::Literal(crate::eval::fold_literals(op, *a, *b)));
    }
    Ok(Expr::BinOp(BinOpExpr { op, lhs: Box::new(lhs), rhs: Box::new(rhs), opts }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(q: &str) -> String {
        let e = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let s = e.to_string();
        let e2 = parse(&s).unwrap_or_else(|e| panic!("reparse {s}: {e}"));
        assert_eq!(e, e2, "round trip of {q} via {s}");
        s
    }

    fn err(q: &str) -> String {
        parse(q).expect_err(q).to_string()
    }

    #[test]
    fn selectors_and_filters() {
        assert_eq!(rt(r#"{foo="bar"}"#), r#"{foo="bar"}"#);
        assert_eq!(rt(r#"{foo = "bar", baz=~"a.*"}"#), r#"{foo="bar", baz=~"a.*"}"#);
        assert_eq!(rt(r#"{a="b"} |= "x" != "y" |~ `z` !~ "w""#), r#"{a="b"} |= "x" != "y" |~ "z" !~ "w""#);
        assert_eq!(rt(r#"{a="b"} |= "x" or "y""#), r#"{a="b"} |= "x" or "y""#);
        assert_eq!(rt(r#"{a="b"} != "x" or "y""#), r#"{a="b"} != "x" != "y""#);
        assert_eq!(rt(r#"{a="b"} |= ip("1.2.3.4")"#), r#"{a="b"} |= ip("1.2.3.4")"#);
        assert_eq!(rt(r#"{a="b"} |> "<_> x" !> "y <_>""#), r#"{a="b"} |> "<_> x" !> "y <_>""#);
        assert_eq!(rt(r#"({a="b"} |= "x")"#), r#"{a="b"} |= "x""#);
    }

    #[test]
    fn parsers_and_stages() {
        assert_eq!(rt(r#"{a="b"} | json"#), r#"{a="b"} | json"#);
        assert_eq!(rt(r#"{a="b"} | json x="y", z"#), r#"{a="b"} | json x="y",z="z""#);
        assert_eq!(rt(r#"{a="b"} | logfmt --strict --keep-empty"#), r#"{a="b"} | logfmt --strict --keep-empty"#);
        assert_eq!(rt(r#"{a="b"} | logfmt --strict a, b="c""#), r#"{a="b"} | logfmt --strict a="a",b="c""#);
        assert_eq!(rt(r#"{a="b"} | regexp "(?P<x>.*)""#), r#"{a="b"} | regexp "(?P<x>.*)""#);
        assert_eq!(rt(r#"{a="b"} | pattern "<x> <_>""#), r#"{a="b"} | pattern "<x> <_>""#);
        assert_eq!(rt(r#"{a="b"} | unpack | decolorize"#), r#"{a="b"} | unpack | decolorize"#);
        assert_eq!(rt(r#"{a="b"} | line_format "{{.x}}""#), r#"{a="b"} | line_format "{{.x}}""#);
        assert_eq!(rt(r#"{a="b"} | label_format x=y, z="{{.a}}""#), r#"{a="b"} | label_format x=y,z="{{.a}}""#);
        assert_eq!(rt(r#"{a="b"} | drop a, b="c" | keep d"#), r#"{a="b"} | drop a,b="c" | keep d"#);
    }

    #[test]
    fn label_filters() {
        assert_eq!(rt(r#"{a="b"} | x > 5"#), r#"{a="b"} | x>5"#);
        assert_eq!(rt(r#"{a="b"} | x >= 1.5s"#), r#"{a="b"} | x>=1.5s"#);
        assert_eq!(rt(r#"{a="b"} | x < 20MB"#), r#"{a="b"} | x<20MB"#);
        assert_eq!(rt(r#"{a="b"} | x = ip("1.2.3.4")"#), r#"{a="b"} | x=ip("1.2.3.4")"#);
        assert_eq!(rt(r#"{a="b"} | a="1" and b="2" or c="3""#), r#"{a="b"} | ( ( a="1" , b="2" ) or c="3" )"#);
        assert_eq!(rt(r#"{a="b"} | a="1" or b="2" and c="3""#), r#"{a="b"} | ( a="1" or ( b="2" , c="3" ) )"#);
        assert_eq!(rt(r#"{a="b"} | (a="1" or b="2"), c="3""#), r#"{a="b"} | ( ( a="1" or b="2" ) , c="3" )"#);
        assert_eq!(rt(r#"{a="b"} | a="1" b="2""#), r#"{a="b"} | ( a="1" , b="2" )"#);
        assert_eq!(rt(r#"{a="b"} | x == -1"#), r#"{a="b"} | x==-1"#);
        assert_eq!(rt(r#"{a="b"} | msg=~"\\w.*""#), r#"{a="b"} | msg=~`\w.*`"#);
        assert_eq!(rt(r#"{a="b"} | msg=~"foo|bar""#), r#"{a="b"} | msg=~"foo|bar""#);
        assert_eq!(rt(r#"{a="b"} | msg!~"a.+""#), r#"{a="b"} | msg!~"a.+""#);
    }

    #[test]
    fn metrics() {
        assert_eq!(rt(r#"rate({a="b"}[5m])"#), r#"rate({a="b"}[5m])"#);
        assert_eq!(
            rt(r#"count_over_time({a="b"} |= "x" [1h30m] offset 5m)"#),
            r#"count_over_time({a="b"} |= "x"[1h30m] offset 5m0s)"#
        );
        assert_eq!(rt(r#"count_over_time({a="b"}[5m] |= "x")"#), r#"count_over_time({a="b"} |= "x"[5m])"#);
        assert_eq!(rt(r#"count_over_time(({a="b"} |= "x")[5m])"#), r#"count_over_time({a="b"} |= "x"[5m])"#);
        assert_eq!(
            rt(r#"quantile_over_time(0.99, {a="b"} | json | unwrap duration(latency) | __error__="" [5m]) by (route)"#),
            r#"quantile_over_time(0.99,{a="b"} | json | unwrap duration(latency) | __error__=""[5m]) by (route)"#
        );
        assert_eq!(rt(r#"sum by (a) (rate({a="b"}[1m]))"#), r#"sum by (a)(rate({a="b"}[1m]))"#);
        assert_eq!(rt(r#"sum(rate({a="b"}[1m])) without (a)"#), r#"sum without (a)(rate({a="b"}[1m]))"#);
        assert_eq!(rt(r#"topk(5, rate({a="b"}[1m]))"#), r#"topk(5,rate({a="b"}[1m]))"#);
        assert_eq!(rt(r#"1 + 2 * 3"#), "7");
        assert_eq!(rt(r#"2 ^ 3 ^ 2"#), "512");
        assert_eq!(parse("1/0").unwrap().to_string(), "NaN");
        assert_eq!(
            rt(r#"rate({a="b"}[1m]) > bool on (x) group_left (y) rate({a="c"}[1m])"#),
            r#"(rate({a="b"}[1m]) > bool on (x) group_left (y) rate({a="c"}[1m]))"#
        );
        assert_eq!(
            rt(r#"rate({a="b"}[1m]) / ignoring (x) rate({a="c"}[1m])"#),
            r#"(rate({a="b"}[1m]) / ignoring (x)  rate({a="c"}[1m]))"#
        );
        assert_eq!(rt(r#"vector(1) or rate({a="b"}[1m]) * 2"#), r#"(vector(1.000000) or (rate({a="b"}[1m]) * 2))"#);
        assert_eq!(
            rt(r#"label_replace(rate({a="b"}[1m]), "d", "$1", "s", "(.*)")"#),
            r#"label_replace(rate({a="b"}[1m]),"d","$1","s","(.*)")"#
        );
        assert_eq!(rt("-1"), "-1");
        assert_eq!(rt(r#"SUM(Count_Over_Time({a="b"}[1m]))"#), r#"sum(count_over_time({a="b"}[1m]))"#);
        assert_eq!(rt(r#"sum by (rate) (rate({a="b"}[1m]))"#), r#"sum by (rate)(rate({a="b"}[1m]))"#);
        assert_eq!(
            rt(r#"max_over_time({a="b"} | unwrap bytes(x) | y > 1 [1m])"#),
            r#"max_over_time({a="b"} | unwrap bytes(x) | y>1[1m])"#
        );
    }

    #[test]
    fn errors() {
        assert_eq!(err(r#"{foo="bar"}, "#), "parse error at line 1, col 12: syntax error: unexpected ,");
        assert!(err(r#"{a=""}"#).contains("queries require at least one regexp"));
        assert!(err(r#"-count_over_time({app="foo"}[1m])"#).contains("expecting NUMBER"));
        assert!(err(r#"vector(count_over_time({app="a"}[1m]))"#).contains("expecting NUMBER"));
        assert!(err(r#"{a="b"} | drop"#).contains("expecting IDENTIFIER"));
        assert!(err(r#"{a="b"} | x == ip("1.2.3.4")"#).contains("syntax error: unexpected ip"));
        assert!(err(r#"quantile_over_time(-0.1, {a="b"} | unwrap v [1m])"#).contains("unexpected -"));
        assert!(err(r#"count_over_time({a="b"}[1m]) by (x)"#).contains("grouping not allowed for count_over_time"));
        assert!(err(r#"sum_over_time({a="b"}[1m])"#).contains("invalid aggregation sum_over_time without unwrap"));
        assert!(err(r#"topk(1.5, rate({a="b"}[1m]))"#).contains("invalid parameter"));
        assert!(err(r#"1 and 2"#).contains("unexpected literal for left leg"));
        assert!(err("0x1A").contains("unable to parse literal as a float"));
        assert!(err(r#"{a="b"} | x > 1mb"#).contains("syntax error"));
        assert!(err(r#"{a="b"} | regexp "nocapture""#).contains("at least one named capture must be supplied"));
        assert_eq!(err(r#"{a="b"} |~ "x" [5m]"#), "parse error at line 0, col 16: syntax error: unexpected RANGE");
    }
}
