//! Log expressions: the stream selector, line filters and the pipeline's stages.

use model::{MatchOp, Matcher};

use super::{LfCtx, PResult, Parser};
use crate::ast::*;
use crate::error::ParseError;
use crate::lexer::Tok;
use crate::regexes::regex_err;

impl Parser {
    pub(super) fn parse_log_expr(&mut self) -> PResult<LogExpr> {
        let matchers = self.parse_selector()?;
        let stages = if self.starts_stage() { self.parse_stages()? } else { vec![] };
        Ok(LogExpr { matchers, stages })
    }

    pub(super) fn parse_selector(&mut self) -> PResult<Vec<Matcher>> {
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

    pub(super) fn starts_stage(&self) -> bool {
        match self.peek() {
            Tok::PipeExact | Tok::PipeMatch | Tok::PipePattern | Tok::Nre | Tok::Neq | Tok::Npa => true,
            Tok::Pipe => *self.peek_at(1) != Tok::Kw("unwrap"),
            _ => false,
        }
    }

    pub(super) fn parse_stages(&mut self) -> PResult<Vec<Stage>> {
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
                if let Err(e) = crate::pipeline::parsers::regexp::RegexpParser::new(&s) {
                    return Err(ParseError::new(format!("invalid regexp parser: {e}")));
                }
                Ok(Stage::Regexp(s))
            }
            Tok::Kw("pattern") => {
                self.bump();
                let s = self.expect_str()?;
                if let Err(e) = crate::pipeline::parsers::pattern::Pattern::parse(&s) {
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
}

pub(super) fn new_matcher(name: &str, op: MatchOp, value: &str) -> PResult<Matcher> {
    Matcher::new(name, op, value).map_err(|e| match regex::Regex::new(value) {
        Err(re) => ParseError::new(regex_err(value, &re)),
        Ok(_) => ParseError::new(format!("error parsing regexp: {}", e.0)),
    })
}
