//! Recursive-descent LogQL parser with Pratt binary operators, mirroring Loki's `syntax.y`:
//! metric expressions (`expr`), log ranges and unwrap (`range`), selectors and pipeline stages
//! (`log`), label-filter expressions (`label_filter`).

mod expr;
mod label_filter;
mod log;
mod range;

use model::Matcher;

use crate::ast::*;
use crate::error::ParseError;
use crate::lexer::{Tok, Token, lex};

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
pub(crate) fn validate_matchers(ms: &[Matcher]) -> Result<(), ParseError> {
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
