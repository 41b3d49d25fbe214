//! A Go `text/template` subset with the function set Loki's `line_format`/`label_format` use:
//! values and the parsed template here, parsing (`parse`), execution (`exec`), the functions
//! (`functions`, with `decimal` arithmetic, `encoding`), Go's `fmt` (`fmt`) and `time` (`time`).

mod decimal;
mod encoding;
mod exec;
mod fmt;
mod functions;
pub(crate) mod parse;
mod time;

use std::collections::HashMap;

use crate::go;
use time::format_time;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Nanoseconds since the epoch (UTC).
    Time(i64),
    Nil,
    /// The template's dot: the label map.
    Map,
}

impl Val {
    fn truth(&self) -> bool {
        match self {
            Val::Str(s) => !s.is_empty(),
            Val::Int(i) => *i != 0,
            Val::Float(f) => *f != 0.0,
            Val::Bool(b) => *b,
            Val::Time(_) => true,
            Val::Nil => false,
            Val::Map => true,
        }
    }
    pub(crate) fn to_go_string(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => go::format_float_g(*f),
            Val::Bool(b) => b.to_string(),
            Val::Time(t) => format_time(*t, "2006-01-02 15:04:05.999999999 -0700 MST"),
            Val::Nil => "<no value>".into(),
            Val::Map => "map[]".into(),
        }
    }
    fn as_str(&self) -> String {
        match self {
            Val::Nil => String::new(),
            v => v.to_go_string(),
        }
    }
    /// spf13/cast ToInt64.
    fn to_i64(&self) -> i64 {
        match self {
            Val::Int(i) => *i,
            Val::Float(f) => *f as i64,
            Val::Bool(b) => *b as i64,
            Val::Str(s) => parse_go_int(s.trim()).unwrap_or(0),
            _ => 0,
        }
    }
    fn to_f64(&self) -> f64 {
        match self {
            Val::Int(i) => *i as f64,
            Val::Float(f) => *f,
            Val::Bool(b) => *b as i64 as f64,
            Val::Str(s) => go::parse_go_float(s).unwrap_or(0.0),
            _ => 0.0,
        }
    }
}

fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, b) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = b.strip_prefix("0x").or_else(|| b.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = b.strip_prefix("0o").or_else(|| b.strip_prefix("0O")) {
        i64::from_str_radix(o, 8).ok()?
    } else if let Some(o) = b.strip_prefix("0b").or_else(|| b.strip_prefix("0B")) {
        i64::from_str_radix(o, 2).ok()?
    } else if b.len() > 1 && b.starts_with('0') {
        i64::from_str_radix(&b[1..], 8).ok()?
    } else {
        b.parse().ok()?
    };
    Some(if neg { -v } else { v })
}

#[derive(Debug, Clone)]
enum Arg {
    Dot,
    Field(Vec<String>),
    Var(String),
    Lit(Val),
    /// A function and its byte offset in the template (for error positions).
    Func(String, usize),
    Sub(Box<Pipeline>),
}

#[derive(Debug, Clone)]
struct Pipeline {
    decl: Option<String>,
    cmds: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Action(Pipeline),
    If(Vec<(Pipeline, Vec<Node>)>, Vec<Node>),
    With(Pipeline, Vec<Node>, Vec<Node>),
    Range(Pipeline, Vec<Node>, Vec<Node>),
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    nodes: Vec<Node>,
    name: String,
    src: String,
    /// Label names referenced with `.name`.
    pub fields: Vec<String>,
    pub uses_line: bool,
}

pub struct Ctx<'a> {
    pub labels: &'a HashMap<String, String>,
    pub line: &'a str,
    pub ts: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(t: &str, labels: &[(&str, &str)]) -> Result<String, String> {
        let m: HashMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Template::parse(t)?.execute(&Ctx { labels: &m, line: "the line", ts: 1_700_000_000_000_000_000 })
    }

    #[test]
    fn templates() {
        assert_eq!(run("L={{.level}}", &[("level", "error")]).unwrap(), "L=error");
        assert_eq!(run("{{.level | upper}}", &[("level", "error")]).unwrap(), "ERROR");
        assert_eq!(run("{{ printf \"\\x1b[31m%s\\x1b[0m\" .msg }}", &[("msg", "hello")]).unwrap().len(), 14);
        assert_eq!(run("{{ if eq .s \"500\" }}ERR{{ else }}ok{{ end }}", &[("s", "500")]).unwrap(), "ERR");
        assert_eq!(run("{{ if eq .s \"500\" }}ERR{{ else }}ok{{ end }}", &[("s", "200")]).unwrap(), "ok");
        assert_eq!(run("{{ div .d 1000 }}", &[("d", "5000")]).unwrap(), "5");
        assert_eq!(run("{{ __line__ }}", &[]).unwrap(), "the line");
        assert_eq!(run("{{ __timestamp__ | date \"2006-01-02\" }}", &[]).unwrap(), "2023-11-14");
        assert_eq!(run("{{ __timestamp__ | unixEpoch }}", &[]).unwrap(), "1700000000");
        assert_eq!(
            run("{{ .path | replace \" \" \"_\" | trunc 5 | upper }}", &[("path", "a b c d e f")]).unwrap(),
            "A_B_C"
        );
        assert_eq!(run("{{ regexReplaceAll \"(a)(b)\" .x \"${2}$1\" }}", &[("x", "xaby")]).unwrap(), "xbay");
        assert_eq!(run("{{.missing}}", &[]).unwrap(), "");
        assert_eq!(run("{{ index . \"a-b\" }}", &[("a-b", "v")]).unwrap(), "v");
        assert_eq!(run("{{ . }}", &[("b", "2"), ("a", "1")]).unwrap(), "map[a:1 b:2]");
        assert_eq!(
            run("x\n  {{ div .a 0 }}", &[("a", "1")]).unwrap_err(),
            "template: line:2:5: executing \"line\" at <div>: error calling div: runtime error: integer divide by zero"
        );
        assert_eq!(
            run("{{ regexReplaceAll \"(\" .a \"\" }}", &[]).unwrap_err(),
            "template: line:1:3: executing \"line\" at <regexReplaceAll>: error calling regexReplaceAll: error parsing regexp: missing closing ): `(`"
        );
        assert_eq!(run("{{ default \"d\" .x }}", &[]).unwrap(), "d");
        assert!(Template::parse("{{ nosuchfunc }}").unwrap_err().contains("not defined"));
        assert!(Template::parse("{{").unwrap_err().contains("unclosed action"));
        assert_eq!(run("a {{- \" b \" -}} c", &[]).unwrap(), "a b c");
    }
}
