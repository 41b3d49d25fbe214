//! Label-filter expressions: `a="b" and (c>5 or d=~"e")`, `,` as `and`, typed comparisons.

use super::expr::literal;
use super::log::new_matcher;
use super::{Height, LfCtx, PResult, Parser};
use model::MatchOp;

use crate::ast::*;
use crate::lexer::Tok;

impl Parser {
    pub(super) fn parse_label_filter(&mut self, ctx: LfCtx) -> PResult<(LabelFilter, Height)> {
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
