//! Log ranges: `{...} | ... [5m] offset 1h`, `unwrap` and the label filters after it.

use super::{LfCtx, PResult, Parser};
use crate::ast::*;
use crate::lexer::Tok;

impl Parser {
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

    pub(super) fn parse_log_range(&mut self) -> PResult<LogRange> {
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
}
