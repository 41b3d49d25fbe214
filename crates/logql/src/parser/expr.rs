//! Metric expressions: binary operators and their modifiers, aggregations, `label_replace`,
//! `vector()` and literals.

use super::{Height, PResult, Parser, binop_of};
use crate::arith::fold_literals;
use crate::ast::*;
use crate::error::ParseError;
use crate::go::parse_go_float;
use crate::lexer::Tok;
use crate::regexes::regex_err;

impl Parser {
    pub(super) fn parse_expr(&mut self, min_prec: u8) -> PResult<(Expr, Height)> {
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
}

/// Go's `strconv.Atoi`.
/// Go's `strconv.Atoi`.
fn parse_go_atoi(s: &str) -> Option<i64> {
    let b = s.strip_prefix('+').unwrap_or(s);
    if b.is_empty() || !b.trim_start_matches('-').bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub(super) fn literal(n: &str, neg: bool) -> PResult<Expr> {
    let v = parse_go_float(n).map_err(|e| ParseError::new(format!("unable to parse literal as a float: {e}")))?;
    Ok(Expr::Literal(if neg { -v } else { v }))
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
        return Ok(Expr::Literal(fold_literals(op, *a, *b)));
    }
    Ok(Expr::BinOp(BinOpExpr { op, lhs: Box::new(lhs), rhs: Box::new(rhs), opts }))
}
