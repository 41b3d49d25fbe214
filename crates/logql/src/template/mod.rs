//! A Go `text/template` subset with the function set Loki's `line_format`/`label_format` use.

use std::collections::HashMap;

use crate::units;

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
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
    pub fn to_go_string(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => units::format_float_g(*f),
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
            Val::Str(s) => units::parse_go_float(s).unwrap_or(0.0),
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

const FUNCS: &[&str] = &[
    "and",
    "or",
    "not",
    "len",
    "index",
    "slice",
    "print",
    "printf",
    "println",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "html",
    "js",
    "urlquery",
    "call",
    "ToLower",
    "ToUpper",
    "Replace",
    "Trim",
    "TrimLeft",
    "TrimRight",
    "TrimPrefix",
    "TrimSuffix",
    "TrimSpace",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "count",
    "urldecode",
    "urlencode",
    "bytes",
    "duration",
    "duration_seconds",
    "unixEpochMillis",
    "unixEpochNanos",
    "toDateInZone",
    "unixToTime",
    "alignLeft",
    "alignRight",
    "b64dec",
    "b64enc",
    "lower",
    "upper",
    "title",
    "trunc",
    "substr",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "indent",
    "nindent",
    "replace",
    "repeat",
    "trim",
    "trimAll",
    "trimSuffix",
    "trimPrefix",
    "int",
    "float64",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "addf",
    "subf",
    "mulf",
    "divf",
    "max",
    "min",
    "maxf",
    "minf",
    "ceil",
    "floor",
    "round",
    "fromJson",
    "date",
    "toDate",
    "now",
    "unixEpoch",
    "default",
    "__line__",
    "__timestamp__",
];

// ------------------------------------------------------------------------------- parsing

#[derive(Debug, Clone, PartialEq)]
enum T {
    Dot,
    Field(String),
    /// `.b` directly after `.a` (`.a.b`).
    Chain(String),
    Var(String),
    Str(String),
    Num(String),
    Ident(String, usize),
    Pipe,
    LParen,
    RParen,
    Decl,
    Assign,
    Comma,
}

fn lex_action(s: &str, base: usize) -> Result<Vec<T>, String> {
    let c: Vec<char> = s.chars().collect();
    let byte_at: Vec<usize> = s.char_indices().map(|(b, _)| b).collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '|' {
            out.push(T::Pipe);
            i += 1;
        } else if ch == '(' {
            out.push(T::LParen);
            i += 1;
        } else if ch == ')' {
            out.push(T::RParen);
            i += 1;
        } else if ch == ',' {
            out.push(T::Comma);
            i += 1;
        } else if ch == ':' && c.get(i + 1) == Some(&'=') {
            out.push(T::Decl);
            i += 2;
        } else if ch == '=' {
            out.push(T::Assign);
            i += 1;
        } else if ch == '"' {
            let mut j = i + 1;
            let mut raw = String::from("\"");
            while j < c.len() && c[j] != '"' {
                if c[j] == '\\' && j + 1 < c.len() {
                    raw.push(c[j]);
                    j += 1;
                }
                raw.push(c[j]);
                j += 1;
            }
            if j >= c.len() {
                return Err("unterminated quoted string".into());
            }
            raw.push('"');
            out.push(T::Str(unquote_go(&raw)?));
            i = j + 1;
        } else if ch == '`' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '`' {
                j += 1;
            }
            if j >= c.len() {
                return Err("unterminated raw quoted string".into());
            }
            out.push(T::Str(c[i + 1..j].iter().collect()));
            i = j + 1;
        } else if ch == '.' || ch == '$' {
            let mut j = i + 1;
            while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_') {
                j += 1;
            }
            let name: String = c[i + 1..j].iter().collect();
            if ch == '$' {
                out.push(T::Var(name));
            } else if name.is_empty() {
                out.push(T::Dot);
            } else if i > 0
                && !c[i - 1].is_whitespace()
                && matches!(out.last(), Some(T::Field(_) | T::Chain(_) | T::Var(_)))
            {
                out.push(T::Chain(name));
            } else {
                out.push(T::Field(name));
            }
            i = j;
        } else if ch.is_ascii_digit() || ((ch == '-' || ch == '+') && c.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let mut j = i + 1;
            while j < c.len() && (c[j].is_ascii_alphanumeric() || c[j] == '.' || c[j] == '_') {
                j += 1;
            }
            out.push(T::Num(c[i..j].iter().collect()));
            i = j;
        } else if ch == '\'' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '\'' {
                j += 1;
            }
            let inner: String = c[i + 1..j.min(c.len())].iter().collect();
            out.push(T::Num((inner.chars().next().unwrap_or('\0') as u32).to_string()));
            i = j + 1;
        } else if ch.is_alphabetic() || ch == '_' {
            let mut j = i + 1;
            while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_') {
                j += 1;
            }
            out.push(T::Ident(c[i..j].iter().collect(), base + byte_at[i]));
            i = j;
        } else {
            return Err(format!("unexpected {ch:?} in command"));
        }
    }
    Ok(out)
}

fn unquote_go(raw: &str) -> Result<String, String> {
    let toks = crate::lexer::lex(raw).map_err(|e| e.msg)?;
    match &toks[0].tok {
        crate::lexer::Tok::Str(s) => Ok(s.clone()),
        _ => Err("invalid syntax".into()),
    }
}

struct PState<'a> {
    toks: &'a [T],
    i: usize,
    fields: &'a mut Vec<String>,
    uses_line: &'a mut bool,
}

impl PState<'_> {
    fn pipeline(&mut self) -> Result<Pipeline, String> {
        let mut decl = None;
        if let (Some(T::Var(v)), Some(T::Decl | T::Assign)) = (self.toks.get(self.i), self.toks.get(self.i + 1)) {
            decl = Some(v.clone());
            self.i += 2;
        }
        let mut cmds = Vec::new();
        loop {
            let mut args = Vec::new();
            while let Some(t) = self.toks.get(self.i) {
                match t {
                    T::Pipe | T::RParen => break,
                    _ => args.push(self.operand()?),
                }
            }
            if args.is_empty() {
                return Err("missing value for command".into());
            }
            cmds.push(args);
            if self.toks.get(self.i) == Some(&T::Pipe) {
                self.i += 1;
            } else {
                break;
            }
        }
        Ok(Pipeline { decl, cmds })
    }

    fn operand(&mut self) -> Result<Arg, String> {
        let t = self.toks[self.i].clone();
        self.i += 1;
        Ok(match t {
            T::Dot => Arg::Dot,
            T::Field(f) => {
                let mut path = vec![f];
                while let Some(T::Chain(g)) = self.toks.get(self.i) {
                    path.push(g.clone());
                    self.i += 1;
                }
                self.fields.push(path[0].clone());
                Arg::Field(path)
            }
            T::Var(v) => {
                while let Some(T::Chain(_)) = self.toks.get(self.i) {
                    self.i += 1;
                }
                Arg::Var(v)
            }
            T::Str(s) => Arg::Lit(Val::Str(s)),
            T::Num(n) => {
                if let Some(i) = parse_go_int(&n) {
                    Arg::Lit(Val::Int(i))
                } else {
                    Arg::Lit(Val::Float(
                        units::parse_go_float(&n).map_err(|_| format!("illegal number syntax: {n:?}"))?,
                    ))
                }
            }
            T::Ident(id, at) => match id.as_str() {
                "true" => Arg::Lit(Val::Bool(true)),
                "false" => Arg::Lit(Val::Bool(false)),
                "nil" => Arg::Lit(Val::Nil),
                _ => {
                    if !FUNCS.contains(&id.as_str()) {
                        return Err(format!("function {id:?} not defined"));
                    }
                    if id == "__line__" {
                        *self.uses_line = true;
                    }
                    Arg::Func(id, at)
                }
            },
            T::LParen => {
                let p = self.pipeline()?;
                if self.toks.get(self.i) != Some(&T::RParen) {
                    return Err("unclosed left paren".into());
                }
                self.i += 1;
                Arg::Sub(Box::new(p))
            }
            t => return Err(format!("unexpected {t:?} in operand")),
        })
    }
}

enum Item {
    Text(String),
    /// An action's trimmed body and its byte offset in the template.
    Action(String, usize),
}

fn split_items(src: &str) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    let mut rest = src;
    let mut line = 1;
    while let Some(i) = rest.find("{{") {
        let mut text = rest[..i].to_string();
        let after = &rest[i + 2..];
        let trim_left = after.starts_with("- ") || after.starts_with("-\t") || after.starts_with("-\n");
        if trim_left {
            text = text.trim_end().to_string();
        }
        line += text.matches('\n').count();
        items.push(Item::Text(text));
        let body_start = if trim_left { 2 } else { 0 };
        let after = &after[body_start..];
        // find closing, skipping strings
        let b = after.as_bytes();
        let mut j = 0;
        let mut end = None;
        while j < b.len() {
            match b[j] {
                b'"' => {
                    j += 1;
                    while j < b.len() && b[j] != b'"' {
                        if b[j] == b'\\' {
                            j += 1;
                        }
                        j += 1;
                    }
                }
                b'`' => {
                    j += 1;
                    while j < b.len() && b[j] != b'`' {
                        j += 1;
                    }
                }
                b'}' if b.get(j + 1) == Some(&b'}') => {
                    end = Some(j);
                    break;
                }
                b'\n' if !after[..j].trim_start().starts_with("/*") => {
                    return Err(format!("template: line:{line}: unclosed action"));
                }
                _ => {}
            }
            j += 1;
        }
        let Some(e) = end else {
            return Err(format!("template: line:{line}: unclosed action"));
        };
        let mut body = &after[..e];
        let trim_right = body.ends_with(" -") || body.ends_with("\t-") || body.ends_with("\n-");
        if trim_right {
            body = &body[..body.len() - 2];
        }
        let trimmed = body.trim();
        items.push(Item::Action(trimmed.to_string(), trimmed.as_ptr() as usize - src.as_ptr() as usize));
        rest = &after[e + 2..];
        if trim_right {
            rest = rest.trim_start();
        }
    }
    items.push(Item::Text(rest.to_string()));
    Ok(items)
}

impl Template {
    /// Parses a template named `name` (Loki uses "line" for `line_format` and "label" for
    /// `label_format`); errors read like Go's (`template: line:1: ...`).
    pub fn parse_named(src: &str, name: &str) -> Result<Template, String> {
        let mut t = Template::parse(src).map_err(|e| {
            let rest = e.strip_prefix("template: ").unwrap_or(&e);
            match rest.strip_prefix("line:") {
                Some(r) => format!("template: {name}:{r}"),
                None => format!("template: {name}:1: {rest}"),
            }
        })?;
        t.name = name.to_string();
        Ok(t)
    }

    pub fn parse(src: &str) -> Result<Template, String> {
        let items = split_items(src)?;
        let mut fields = Vec::new();
        let mut uses_line = false;
        let mut pos = 0;
        let (nodes, term) = parse_list(&items, &mut pos, &mut fields, &mut uses_line)?;
        if let Some(t) = term {
            return Err(format!("template: unexpected {{{{{}}}}}", t.0));
        }
        fields.sort();
        fields.dedup();
        Ok(Template { nodes, name: "line".into(), src: src.to_string(), fields, uses_line })
    }

    pub fn execute(&self, ctx: &Ctx) -> Result<String, String> {
        let mut out = String::new();
        let mut vars: Vec<(String, Val)> = Vec::new();
        let env = Env { ctx, name: &self.name, src: &self.src };
        exec_list(&self.nodes, &env, &mut out, &mut vars).map_err(|e| format!("template: {e}"))?;
        Ok(out)
    }
}

/// An `end`/`else ...` action text and its offset.
type Terminator = (String, usize);

/// Parses nodes until `end`/`else` (returned as the terminator text) or the end of input.
fn parse_list(
    items: &[Item],
    pos: &mut usize,
    fields: &mut Vec<String>,
    uses_line: &mut bool,
) -> Result<(Vec<Node>, Option<Terminator>), String> {
    let mut nodes = Vec::new();
    while *pos < items.len() {
        let it = &items[*pos];
        *pos += 1;
        match it {
            Item::Text(t) => {
                if !t.is_empty() {
                    nodes.push(Node::Text(t.clone()))
                }
            }
            Item::Action(a, at) => {
                let at = *at;
                if a.starts_with("/*") {
                    continue;
                }
                let word = a.split_whitespace().next().unwrap_or("");
                match word {
                    "end" => return Ok((nodes, Some(("end".into(), at)))),
                    "else" => return Ok((nodes, Some((a.clone(), at)))),
                    "if" | "with" | "range" => {
                        let mut p = parse_pipe(&a[word.len()..], at + word.len(), fields, uses_line)?;
                        let mut branches = Vec::new();
                        let mut else_body = Vec::new();
                        loop {
                            let (body, term) = parse_list(items, pos, fields, uses_line)?;
                            let Some((term, term_at)) = term else {
                                return Err("template: unexpected EOF".into());
                            };
                            if term == "end" {
                                branches.push((p, body));
                                break;
                            }
                            // else / else if
                            let rest = term["else".len()..].trim();
                            branches.push((p, body));
                            if word == "if" && rest.starts_with("if ") {
                                let off = term_at + (rest.as_ptr() as usize - term.as_ptr() as usize) + 2;
                                p = parse_pipe(&rest[2..], off, fields, uses_line)?;
                                continue;
                            }
                            let (eb, t2) = parse_list(items, pos, fields, uses_line)?;
                            if t2.as_ref().map(|t| t.0.as_str()) != Some("end") {
                                return Err("template: expected end".into());
                            }
                            else_body = eb;
                            break;
                        }
                        match word {
                            "if" => nodes.push(Node::If(branches, else_body)),
                            "with" => {
                                let (p, b) = branches.remove(0);
                                nodes.push(Node::With(p, b, else_body));
                            }
                            _ => {
                                let (p, b) = branches.remove(0);
                                nodes.push(Node::Range(p, b, else_body));
                            }
                        }
                    }
                    "" => return Err("template: missing value for command".into()),
                    _ => nodes.push(Node::Action(parse_pipe(a, at, fields, uses_line)?)),
                }
            }
        }
    }
    Ok((nodes, None))
}

fn parse_pipe(s: &str, base: usize, fields: &mut Vec<String>, uses_line: &mut bool) -> Result<Pipeline, String> {
    let toks = lex_action(s, base).map_err(|e| format!("template: {e}"))?;
    let mut st = PState { toks: &toks, i: 0, fields, uses_line };
    let p = st.pipeline().map_err(|e| format!("template: {e}"))?;
    if st.i != toks.len() {
        return Err(format!("template: unexpected {:?} in operand", toks[st.i]));
    }
    Ok(p)
}

// ------------------------------------------------------------------------------- execution

/// Execution environment: the data plus what error messages need.
struct Env<'a> {
    ctx: &'a Ctx<'a>,
    name: &'a str,
    src: &'a str,
}

impl Env<'_> {
    /// Go's `executing "line" at <f>` error context.
    fn at(&self, f: &str, pos: usize, e: String) -> String {
        let text = &self.src[..pos.min(self.src.len())];
        let line = 1 + text.matches('\n').count();
        let col = match text.rfind('\n') {
            Some(i) => pos - i - 1,
            None => pos,
        };
        let e = if e.starts_with("error calling") || e.starts_with("wrong number of args") {
            e
        } else {
            format!("error calling {f}: {e}")
        };
        format!("{}:{line}:{col}: executing {} at <{f}>: {e}", self.name, model::quote_go(self.name))
    }
}

fn exec_list(nodes: &[Node], env: &Env, out: &mut String, vars: &mut Vec<(String, Val)>) -> Result<(), String> {
    let ctx = env.ctx;
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Action(p) => {
                let v = eval_pipe(p, env, vars)?;
                if p.decl.is_none() {
                    if v == Val::Map {
                        let mut keys: Vec<&String> = ctx.labels.keys().collect();
                        keys.sort();
                        let body: Vec<String> = keys.iter().map(|k| format!("{k}:{}", ctx.labels[*k])).collect();
                        out.push_str(&format!("map[{}]", body.join(" ")));
                    } else {
                        out.push_str(&v.to_go_string());
                    }
                }
            }
            Node::If(branches, else_body) => {
                let mut done = false;
                for (p, body) in branches {
                    if eval_pipe(p, env, vars)?.truth() {
                        exec_list(body, env, out, vars)?;
                        done = true;
                        break;
                    }
                }
                if !done {
                    exec_list(else_body, env, out, vars)?;
                }
            }
            Node::With(p, body, else_body) => {
                if eval_pipe(p, env, vars)?.truth() {
                    exec_list(body, env, out, vars)?;
                } else {
                    exec_list(else_body, env, out, vars)?;
                }
            }
            Node::Range(p, _body, else_body) => {
                // Only scalars are available: ranging over them is an error in Go; keep the else.
                let v = eval_pipe(p, env, vars)?;
                if v.truth() {
                    return Err(format!("range can't iterate over {}", v.to_go_string()));
                }
                exec_list(else_body, env, out, vars)?;
            }
        }
    }
    Ok(())
}

fn eval_pipe(p: &Pipeline, env: &Env, vars: &mut Vec<(String, Val)>) -> Result<Val, String> {
    let mut prev: Option<Val> = None;
    for cmd in &p.cmds {
        prev = Some(eval_cmd(cmd, prev, env, vars)?);
    }
    let v = prev.unwrap_or(Val::Nil);
    if let Some(d) = &p.decl {
        vars.retain(|(n, _)| n != d);
        vars.push((d.clone(), v.clone()));
    }
    Ok(v)
}

fn eval_arg(a: &Arg, env: &Env, vars: &mut Vec<(String, Val)>) -> Result<Val, String> {
    let ctx = env.ctx;
    Ok(match a {
        Arg::Dot => Val::Map,
        Arg::Field(path) => {
            if path.len() > 1 {
                return Err(format!("can't evaluate field {} in type string", path[1]));
            }
            Val::Str(ctx.labels.get(&path[0]).cloned().unwrap_or_default())
        }
        Arg::Var(v) => vars
            .iter()
            .rev()
            .find(|(n, _)| n == v)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("undefined variable: ${v}"))?,
        Arg::Lit(v) => v.clone(),
        Arg::Func(f, at) => call(f, vec![], ctx).map_err(|e| env.at(f, *at, e))?,
        Arg::Sub(p) => eval_pipe(p, env, vars)?,
    })
}

fn eval_cmd(cmd: &[Arg], prev: Option<Val>, env: &Env, vars: &mut Vec<(String, Val)>) -> Result<Val, String> {
    if let Arg::Func(f, at) = &cmd[0] {
        // and/or short-circuit
        let mut args = Vec::new();
        for a in &cmd[1..] {
            args.push(eval_arg(a, env, vars)?);
        }
        if let Some(p) = prev {
            args.push(p);
        }
        return call(f, args, env.ctx).map_err(|e| env.at(f, *at, e));
    }
    if cmd.len() > 1 || prev.is_some() {
        return Err("can't give argument to non-function".into());
    }
    eval_arg(&cmd[0], env, vars)
}

fn want(f: &str, args: &[Val], n: usize) -> Result<(), String> {
    if args.len() != n {
        return Err(format!("wrong number of args for {f}: want {n} got {}", args.len()));
    }
    Ok(())
}

fn go_regex(p: &str) -> Result<regex::Regex, String> {
    model::goregex::compile(p).map_err(|e| crate::parser::regex_err(p, &e))
}

/// Go's `Regexp.ReplaceAllString` template expansion (`$1`, `${name}`).
pub fn expand_go(template: &str, caps: &regex::Captures) -> String {
    let mut out = String::new();
    let b = template.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            let c = template[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        if i + 1 < b.len() && b[i + 1] == b'$' {
            out.push('$');
            i += 2;
            continue;
        }
        let (name, next) = if i + 1 < b.len() && b[i + 1] == b'{' {
            match template[i + 2..].find('}') {
                Some(e) => (&template[i + 2..i + 2 + e], i + 3 + e),
                None => {
                    out.push('$');
                    i += 1;
                    continue;
                }
            }
        } else {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            (&template[i + 1..j], j)
        };
        if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            out.push('$');
            i += 1;
            continue;
        }
        let m = if let Ok(n) = name.parse::<usize>() { caps.get(n) } else { caps.name(name) };
        if let Some(m) = m {
            out.push_str(m.as_str());
        }
        i = next;
    }
    out
}

/// Upper bound on what one function call may produce (keeps a query from exhausting memory).
const MAX_OUTPUT: usize = 16 << 20;

/// Go's argument count rules: (minimum, maximum) for each function.
fn arity(f: &str) -> (usize, Option<usize>) {
    match f {
        "now" | "__line__" | "__timestamp__" => (0, Some(0)),
        "ToLower" | "ToUpper" | "TrimSpace" | "urldecode" | "urlencode" | "bytes" | "duration" | "duration_seconds"
        | "unixEpochMillis" | "unixEpochNanos" | "unixToTime" | "b64dec" | "b64enc" | "lower" | "upper" | "title"
        | "trim" | "int" | "float64" | "ceil" | "floor" | "fromJson" | "unixEpoch" | "not" | "len" => (1, Some(1)),
        "Trim" | "TrimLeft" | "TrimRight" | "TrimPrefix" | "TrimSuffix" | "count" | "alignLeft" | "alignRight"
        | "trunc" | "contains" | "hasPrefix" | "hasSuffix" | "indent" | "nindent" | "repeat" | "trimAll"
        | "trimSuffix" | "trimPrefix" | "sub" | "div" | "mod" | "date" | "toDate" | "ne" | "lt" | "le" | "gt"
        | "ge" => (2, Some(2)),
        "regexReplaceAll" | "regexReplaceAllLiteral" | "toDateInZone" | "substr" | "replace" => (3, Some(3)),
        "Replace" => (4, Some(4)),
        "round" => (2, None),
        "mul" | "subf" | "mulf" | "divf" | "max" | "min" | "maxf" | "minf" | "default" | "and" | "or" | "index"
        | "slice" | "printf" | "eq" | "call" => (1, None),
        _ => (0, None),
    }
}

fn call(f: &str, a: Vec<Val>, ctx: &Ctx) -> Result<Val, String> {
    let (min, max) = arity(f);
    if a.len() < min || max.is_some_and(|m| a.len() > m) {
        let want = if max == Some(min) { min.to_string() } else { format!("at least {min}") };
        return Err(format!("wrong number of args for {f}: want {want} got {}", a.len()));
    }
    let s = |i: usize| a.get(i).map(|v| v.as_str()).unwrap_or_default();
    let last = || a.last().cloned().unwrap_or(Val::Nil);
    Ok(match f {
        "__line__" => Val::Str(ctx.line.to_string()),
        "__timestamp__" => Val::Time(ctx.ts),
        "ToLower" | "lower" => Val::Str(s(0).to_lowercase()),
        "ToUpper" | "upper" => Val::Str(s(0).to_uppercase()),
        "title" => {
            let mut out = String::new();
            let mut prev_letter = false;
            for c in s(0).chars() {
                if !prev_letter {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
            }
            Val::Str(out)
        }
        "Replace" => {
            want(f, &a, 4)?;
            let n = a[3].to_i64();
            let (src, old, new) = (s(0), s(1), s(2));
            if n < 0 { Val::Str(src.replace(&old, &new)) } else { Val::Str(src.replacen(&old, &new, n as usize)) }
        }
        "replace" => {
            want(f, &a, 3)?;
            Val::Str(s(2).replace(&s(0), &s(1)))
        }
        "Trim" => Val::Str(s(0).trim_matches(|c| s(1).contains(c)).to_string()),
        "TrimLeft" => Val::Str(s(0).trim_start_matches(|c| s(1).contains(c)).to_string()),
        "TrimRight" => Val::Str(s(0).trim_end_matches(|c| s(1).contains(c)).to_string()),
        "TrimPrefix" => Val::Str(s(0).strip_prefix(s(1).as_str()).map(str::to_string).unwrap_or_else(|| s(0))),
        "TrimSuffix" => Val::Str(s(0).strip_suffix(s(1).as_str()).map(str::to_string).unwrap_or_else(|| s(0))),
        "trimPrefix" => Val::Str(s(1).strip_prefix(s(0).as_str()).map(str::to_string).unwrap_or_else(|| s(1))),
        "trimSuffix" => Val::Str(s(1).strip_suffix(s(0).as_str()).map(str::to_string).unwrap_or_else(|| s(1))),
        "trimAll" => Val::Str(s(1).trim_matches(|c| s(0).contains(c)).to_string()),
        "TrimSpace" | "trim" => Val::Str(s(0).trim().to_string()),
        "regexReplaceAll" | "regexReplaceAllLiteral" => {
            want(f, &a, 3)?;
            let re = go_regex(&s(0))?;
            let src = s(1);
            let repl = s(2);
            if f == "regexReplaceAll" {
                let mut out = String::new();
                let mut last_end = 0;
                for c in re.captures_iter(&src) {
                    let m = c.get(0).unwrap();
                    out.push_str(&src[last_end..m.start()]);
                    out.push_str(&expand_go(&repl, &c));
                    last_end = m.end();
                }
                out.push_str(&src[last_end..]);
                Val::Str(out)
            } else {
                Val::Str(re.replace_all(&src, regex::NoExpand(&repl)).into_owned())
            }
        }
        "count" => Val::Int(go_regex(&s(0))?.find_iter(&s(1)).count() as i64),
        "urlencode" | "urlquery" => Val::Str(query_escape(&s(0))),
        "urldecode" => Val::Str(query_unescape(&s(0))?),
        "b64enc" => Val::Str(b64enc(s(0).as_bytes())),
        "b64dec" => {
            let mut v = s(0);
            let r = v.len() % 4;
            if r != 0 && r != 1 {
                v.push_str(&"=".repeat(4 - r));
            }
            Val::Str(match b64dec(&v) {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => e,
            })
        }
        "bytes" => Val::Float(units::parse_bytes(&s(0))? as f64),
        "duration" | "duration_seconds" => Val::Float(units::parse_go_duration(&s(0))? as f64 / 1e9),
        "unixEpoch" => Val::Str((time_of(&last()) / 1_000_000_000).to_string()),
        "unixEpochMillis" => Val::Str((time_of(&last()) / 1_000_000).to_string()),
        "unixEpochNanos" => Val::Str(time_of(&last()).to_string()),
        "unixToTime" => {
            let e = s(0);
            let i: i64 = e.parse().map_err(|_| format!("unable to parse time '{e}'"))?;
            Val::Time(match e.len() {
                5 => i * 86400 * 1_000_000_000,
                10 => i * 1_000_000_000,
                13 => i * 1_000_000,
                16 => i * 1000,
                19 => i,
                _ => return Err(format!("unable to parse time '{e}'")),
            })
        }
        "now" => Val::Time(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as i64)
                .unwrap_or(0),
        ),
        "date" => {
            want(f, &a, 2)?;
            Val::Str(format_time(time_of(&a[1]), &s(0)))
        }
        "toDate" | "toDateInZone" => {
            let (layout, v) = if f == "toDate" { (s(0), s(1)) } else { (s(0), s(2)) };
            Val::Time(parse_time(&layout, &v).unwrap_or(i64::MIN))
        }
        "alignLeft" | "alignRight" => {
            let n = a.first().map(|v| v.to_i64()).unwrap_or(0);
            if n < 0 {
                return Ok(Val::Str(s(1)));
            }
            if n as u128 > MAX_OUTPUT as u128 {
                return Err(format!("error calling {f}: result too large"));
            }
            let n = n as usize;
            let src = s(1);
            let len = src.chars().count();
            Val::Str(if len >= n {
                if f == "alignLeft" { src.chars().take(n).collect() } else { src.chars().skip(len - n).collect() }
            } else if f == "alignLeft" {
                format!("{src}{}", " ".repeat(n - len))
            } else {
                format!("{}{src}", " ".repeat(n - len))
            })
        }
        "trunc" => {
            // sprig: byte-based
            let n = a[0].to_i64();
            let src = s(1);
            let b = src.as_bytes();
            let len = b.len() as i64;
            Val::Str(if n < 0 && len + n > 0 {
                String::from_utf8_lossy(&b[(len + n) as usize..]).into_owned()
            } else if n >= 0 && len > n {
                String::from_utf8_lossy(&b[..n as usize]).into_owned()
            } else {
                src
            })
        }
        "substr" => {
            // sprig: byte-based; Go's out-of-range slicing panics, which the template reports
            let (st, en, src) = (a[0].to_i64(), a[1].to_i64(), s(2));
            let b = src.as_bytes();
            let len = b.len() as i64;
            let oob = || "error calling substr: runtime error: slice bounds out of range".to_string();
            let r = if st < 0 {
                if en < 0 || en > len {
                    return Err(oob());
                }
                &b[..en as usize]
            } else if en < 0 || en > len {
                if st > len {
                    return Err(oob());
                }
                &b[st as usize..]
            } else {
                if st > en {
                    return Err(oob());
                }
                &b[st as usize..en as usize]
            };
            Val::Str(String::from_utf8_lossy(r).into_owned())
        }
        "contains" => Val::Bool(s(1).contains(&s(0))),
        "hasPrefix" => Val::Bool(s(1).starts_with(&s(0))),
        "hasSuffix" => Val::Bool(s(1).ends_with(&s(0))),
        "indent" | "nindent" => {
            let n = a[0].to_i64().clamp(0, MAX_OUTPUT as i64) as usize;
            if n.saturating_mul(s(1).matches('\n').count() + 1) > MAX_OUTPUT {
                return Err(format!("error calling {f}: result too large"));
            }
            let pad = " ".repeat(n);
            let r = format!("{pad}{}", s(1).replace('\n', &format!("\n{pad}")));
            Val::Str(if f == "nindent" { format!("\n{r}") } else { r })
        }
        "repeat" => {
            let n = a[0].to_i64();
            let src = s(1);
            if n < 0 {
                return Err("error calling repeat: strings: negative Repeat count".into());
            }
            if (n as u128) * (src.len() as u128) > MAX_OUTPUT as u128 {
                return Err("error calling repeat: result too large".into());
            }
            Val::Str(src.repeat(n as usize))
        }
        "int" => Val::Int(last().to_i64()),
        "float64" => Val::Float(last().to_f64()),
        "add" => Val::Int(a.iter().map(|v| v.to_i64()).fold(0i64, |x, y| x.wrapping_add(y))),
        "mul" => Val::Int(a.iter().map(|v| v.to_i64()).fold(1i64, |x, y| x.wrapping_mul(y))),
        "sub" => Val::Int(a[0].to_i64().wrapping_sub(a[1].to_i64())),
        "div" => {
            let d = a[1].to_i64();
            if d == 0 {
                return Err("error calling div: runtime error: integer divide by zero".into());
            }
            Val::Int(a[0].to_i64() / d)
        }
        "mod" => {
            let d = a[1].to_i64();
            if d == 0 {
                return Err("error calling mod: runtime error: integer divide by zero".into());
            }
            Val::Int(a[0].to_i64() % d)
        }
        "addf" => Val::Float(dec_op(0.0, &a, Dec::add, |x, y| x + y)),
        "subf" => Val::Float(dec_op(a[0].to_f64(), &a[1..], Dec::sub, |x, y| x - y)),
        "mulf" => Val::Float(dec_op(a[0].to_f64(), &a[1..], Dec::mul, |x, y| x * y)),
        "divf" => Val::Float(dec_op(a[0].to_f64(), &a[1..], Dec::div, |x, y| x / y)),
        "max" => Val::Int(a.iter().map(|v| v.to_i64()).max().unwrap_or(0)),
        "min" => Val::Int(a.iter().map(|v| v.to_i64()).min().unwrap_or(0)),
        "maxf" => Val::Float(a.iter().map(|v| v.to_f64()).fold(f64::NEG_INFINITY, f64::max)),
        "minf" => Val::Float(a.iter().map(|v| v.to_f64()).fold(f64::INFINITY, f64::min)),
        "ceil" => Val::Float(a[0].to_f64().ceil()),
        "floor" => Val::Float(a[0].to_f64().floor()),
        "round" => {
            // sprig: round up when the fraction is at least rOpt (default .5)
            let p = a[1].to_i64() as i32;
            let r_opt = a.get(2).map(|v| v.to_f64()).unwrap_or(0.5);
            let pow = 10f64.powi(p);
            let digit = pow * a[0].to_f64();
            let div = digit.fract();
            let r = if div >= r_opt { digit.ceil() } else { digit.floor() };
            Val::Float(r / pow)
        }
        "default" => {
            if a.len() < 2 {
                a.first().cloned().unwrap_or(Val::Nil)
            } else if a[1].truth() {
                a[1].clone()
            } else {
                a[0].clone()
            }
        }
        "fromJson" => Val::Str(String::new()),
        "not" => Val::Bool(!a.first().map(|v| v.truth()).unwrap_or(false)),
        "and" => {
            let mut r = Val::Nil;
            for v in &a {
                r = v.clone();
                if !v.truth() {
                    break;
                }
            }
            r
        }
        "or" => {
            let mut r = Val::Nil;
            for v in &a {
                r = v.clone();
                if v.truth() {
                    break;
                }
            }
            r
        }
        "len" => match &a[0] {
            Val::Map => Val::Int(ctx.labels.len() as i64),
            _ => Val::Int(s(0).len() as i64),
        },
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
            if a.len() < 2 {
                return Err("missing argument for comparison".to_string());
            }
            let cmp = |x: &Val, y: &Val| -> Option<std::cmp::Ordering> {
                match (x, y) {
                    (Val::Str(p), Val::Str(q)) => Some(p.cmp(q)),
                    (Val::Bool(p), Val::Bool(q)) => Some(p.cmp(q)),
                    (Val::Int(p), Val::Int(q)) => Some(p.cmp(q)),
                    (Val::Int(_) | Val::Float(_), Val::Int(_) | Val::Float(_)) => x.to_f64().partial_cmp(&y.to_f64()),
                    (Val::Nil, Val::Nil) => Some(std::cmp::Ordering::Equal),
                    _ => None,
                }
            };
            match f {
                "eq" => {
                    let mut r = false;
                    for y in &a[1..] {
                        match cmp(&a[0], y) {
                            Some(o) => r |= o.is_eq(),
                            None => return Err("error calling eq: incompatible types for comparison".into()),
                        }
                    }
                    Val::Bool(r)
                }
                _ => {
                    let o = cmp(&a[0], &a[1])
                        .ok_or_else(|| format!("error calling {f}: incompatible types for comparison"))?;
                    Val::Bool(match f {
                        "ne" => o.is_ne(),
                        "lt" => o.is_lt(),
                        "le" => o.is_le(),
                        "gt" => o.is_gt(),
                        _ => o.is_ge(),
                    })
                }
            }
        }
        "print" => {
            let mut out = String::new();
            for (i, v) in a.iter().enumerate() {
                let is_str = matches!(v, Val::Str(_));
                let prev_str = i > 0 && matches!(a[i - 1], Val::Str(_));
                if i > 0 && !is_str && !prev_str {
                    out.push(' ');
                }
                out.push_str(&v.to_go_string());
            }
            Val::Str(out)
        }
        "println" => Val::Str(format!("{}\n", a.iter().map(|v| v.to_go_string()).collect::<Vec<_>>().join(" "))),
        "printf" => Val::Str(sprintf(&s(0), &a[1.min(a.len())..])),
        "html" => Val::Str(
            s(0).replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&#34;")
                .replace('\'', "&#39;"),
        ),
        "js" => Val::Str(s(0).replace('\\', "\\\\").replace('"', "\\\"").replace('\'', "\\'")),
        "index" if matches!(a[0], Val::Map) && a.len() == 2 => {
            Val::Str(ctx.labels.get(&a[1].as_str()).cloned().unwrap_or_default())
        }
        "index" | "slice" | "call" => return Err(format!("error calling {f}: can't index item of type string")),
        _ => return Err(format!("function {f:?} not defined")),
    })
}

/// A decimal (mantissa, scale) like shopspring/decimal, which sprig's float math uses.
#[derive(Clone, Copy)]
struct Dec {
    m: i128,
    s: u32,
}

impl Dec {
    fn from_f64(f: f64) -> Option<Dec> {
        if !f.is_finite() {
            return None;
        }
        let t = format!("{f}");
        let (neg, t) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t.as_str()),
        };
        let (i, fr) = t.split_once('.').unwrap_or((t, ""));
        let m: i128 = format!("{i}{fr}").parse().ok()?;
        Some(Dec { m: if neg { -m } else { m }, s: fr.len() as u32 })
    }
    fn align(a: Dec, b: Dec) -> Option<(i128, i128, u32)> {
        let s = a.s.max(b.s);
        let am = a.m.checked_mul(10i128.checked_pow(s - a.s)?)?;
        let bm = b.m.checked_mul(10i128.checked_pow(s - b.s)?)?;
        Some((am, bm, s))
    }
    fn add(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, s) = Dec::align(a, b)?;
        Some(Dec { m: x.checked_add(y)?, s })
    }
    fn sub(a: Dec, b: Dec) -> Option<Dec> {
        let (x, y, s) = Dec::align(a, b)?;
        Some(Dec { m: x.checked_sub(y)?, s })
    }
    fn mul(a: Dec, b: Dec) -> Option<Dec> {
        Some(Dec { m: a.m.checked_mul(b.m)?, s: a.s + b.s })
    }
    /// Quotient rounded half away from zero to 16 decimal places.
    fn div(a: Dec, b: Dec) -> Option<Dec> {
        if b.m == 0 {
            return None;
        }
        // a.m/10^a.s / (b.m/10^b.s) * 10^16 = a.m * 10^(16 + b.s - a.s) / b.m
        let e = 16i64 + b.s as i64 - a.s as i64;
        let (num, den) = if e >= 0 {
            (a.m.checked_mul(10i128.checked_pow(e as u32)?)?, b.m)
        } else {
            (a.m, b.m.checked_mul(10i128.checked_pow((-e) as u32)?)?)
        };
        let q = num / den;
        let r = num % den;
        let q = if r.abs().checked_mul(2)? >= den.abs() { q + if (num < 0) != (den < 0) { -1 } else { 1 } } else { q };
        Some(Dec { m: q, s: 16 })
    }
    fn to_f64(self) -> f64 {
        let neg = self.m < 0;
        let digits = self.m.unsigned_abs().to_string();
        let s = self.s as usize;
        let t = if digits.len() > s {
            format!("{}.{}", &digits[..digits.len() - s], &digits[digits.len() - s..])
        } else {
            format!("0.{}{}", "0".repeat(s - digits.len()), digits)
        };
        let v: f64 = t.parse().unwrap_or(0.0);
        if neg { -v } else { v }
    }
}

fn dec_op(first: f64, rest: &[Val], op: fn(Dec, Dec) -> Option<Dec>, float: fn(f64, f64) -> f64) -> f64 {
    let exact = || -> Option<f64> {
        let mut acc = Dec::from_f64(first)?;
        for v in rest {
            acc = op(acc, Dec::from_f64(v.to_f64())?)?;
        }
        Some(acc.to_f64())
    };
    exact().unwrap_or_else(|| rest.iter().fold(first, |x, y| float(x, y.to_f64())))
}

fn time_of(v: &Val) -> i64 {
    match v {
        Val::Time(t) => *t,
        Val::Int(i) => *i * 1_000_000_000,
        Val::Str(s) => s.parse::<i64>().map(|i| i * 1_000_000_000).unwrap_or(0),
        _ => 0,
    }
}

/// Go `fmt.Sprintf` for the common verbs.
pub fn sprintf(fmt: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let c: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    let mut ai = 0;
    while i < c.len() {
        if c[i] != '%' {
            out.push(c[i]);
            i += 1;
            continue;
        }
        i += 1;
        if i >= c.len() {
            out.push_str("%!(NOVERB)");
            break;
        }
        let mut flags = String::new();
        while i < c.len() && "+-# 0".contains(c[i]) {
            flags.push(c[i]);
            i += 1;
        }
        let mut width = String::new();
        while i < c.len() && c[i].is_ascii_digit() {
            width.push(c[i]);
            i += 1;
        }
        let mut prec: Option<usize> = None;
        if i < c.len() && c[i] == '.' {
            i += 1;
            let mut p = String::new();
            while i < c.len() && c[i].is_ascii_digit() {
                p.push(c[i]);
                i += 1;
            }
            prec = Some(p.parse().unwrap_or(0));
        }
        if i >= c.len() {
            break;
        }
        let verb = c[i];
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(ai) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        ai += 1;
        let body = match verb {
            's' | 'v' => {
                let s = arg.to_go_string();
                match prec {
                    Some(p) if verb == 's' => s.chars().take(p).collect(),
                    _ => s,
                }
            }
            'q' => model::quote_go(&arg.to_go_string()),
            'd' => match arg {
                Val::Int(n) => n.to_string(),
                Val::Bool(_) | Val::Str(_) | Val::Float(_) | Val::Nil | Val::Time(_) | Val::Map => {
                    format!("%!d({}={})", type_name(arg), arg.to_go_string())
                }
            },
            'f' | 'F' => match arg {
                Val::Float(_) | Val::Int(_) => format!("{:.*}", prec.unwrap_or(6), arg.to_f64()),
                _ => format!("%!f({}={})", type_name(arg), arg.to_go_string()),
            },
            'g' => units::format_float_g(arg.to_f64()),
            'e' => format!("{:.*e}", prec.unwrap_or(6), arg.to_f64()),
            't' => arg.to_go_string(),
            'x' => match arg {
                Val::Int(n) => format!("{n:x}"),
                _ => arg.to_go_string().bytes().map(|b| format!("{b:02x}")).collect(),
            },
            'X' => match arg {
                Val::Int(n) => format!("{n:X}"),
                _ => arg.to_go_string().bytes().map(|b| format!("{b:02X}")).collect(),
            },
            _ => format!("%!{verb}({}={})", type_name(arg), arg.to_go_string()),
        };
        let body = if flags.contains('+') && matches!(verb, 'd' | 'f') && !body.starts_with('-') {
            format!("+{body}")
        } else {
            body
        };
        let w: usize = width.parse().unwrap_or(0);
        let len = body.chars().count();
        if len < w {
            let pad = w - len;
            if flags.contains('-') {
                out.push_str(&body);
                out.push_str(&" ".repeat(pad));
            } else if flags.contains('0') && matches!(verb, 'd' | 'f') {
                let (sign, digits) =
                    if body.starts_with('-') || body.starts_with('+') { body.split_at(1) } else { ("", body.as_str()) };
                out.push_str(sign);
                out.push_str(&"0".repeat(pad));
                out.push_str(digits);
            } else {
                out.push_str(&" ".repeat(pad));
                out.push_str(&body);
            }
        } else {
            out.push_str(&body);
        }
    }
    if ai < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[ai..].iter().map(|a| format!("{}={}", type_name(a), a.to_go_string())).collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

fn type_name(v: &Val) -> &'static str {
    match v {
        Val::Str(_) => "string",
        Val::Int(_) => "int",
        Val::Float(_) => "float64",
        Val::Bool(_) => "bool",
        Val::Time(_) => "time.Time",
        Val::Nil => "<nil>",
        Val::Map => "map[string]string",
    }
}

fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn query_unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let h = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
                match h {
                    Some(v) => out.push(v),
                    None => {
                        let frag: String = s[i..].chars().take(3).collect();
                        return Err(format!("invalid URL escape {}", model::quote_go(&frag)));
                    }
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64enc(b: &[u8]) -> String {
    let mut out = String::new();
    for ch in b.chunks(3) {
        let n = (ch[0] as u32) << 16 | (*ch.get(1).unwrap_or(&0) as u32) << 8 | *ch.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= ch.len() {
                out.push(B64[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64dec(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for (i, c) in s.bytes().enumerate() {
        if c == b'=' {
            break;
        }
        let v = B64.iter().position(|&x| x == c).ok_or_else(|| format!("illegal base64 data at input byte {i}"))?;
        buf = buf << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

// ------------------------------------------------------------------------------- time

fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Formats a UTC time with a Go layout.
pub fn format_time(ns: i64, layout: &str) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    let (y, mo, d) = civil(days);
    let (h, mi, s) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    let wd = (days + 4).rem_euclid(7) as usize;
    let mut out = String::new();
    let mut r = layout;
    while !r.is_empty() {
        let take = |p: &str| r.starts_with(p);
        let (tok, rep): (usize, String) = if take("2006") {
            (4, format!("{y:04}"))
        } else if take("January") {
            (7, MONTHS[mo as usize - 1].into())
        } else if take("Jan") {
            (3, MONTHS[mo as usize - 1][..3].into())
        } else if take("Monday") {
            (6, DAYS[wd].into())
        } else if take("Mon") {
            (3, DAYS[wd][..3].into())
        } else if take("MST") {
            (3, "UTC".into())
        } else if take("01") {
            (2, format!("{mo:02}"))
        } else if take("02") {
            (2, format!("{d:02}"))
        } else if take("06") {
            (2, format!("{:02}", y % 100))
        } else if take("_2") {
            (2, format!("{d:>2}"))
        } else if take("15") {
            (2, format!("{h:02}"))
        } else if take("03") {
            (2, format!("{:02}", if h % 12 == 0 { 12 } else { h % 12 }))
        } else if take("04") {
            (2, format!("{mi:02}"))
        } else if take("05") {
            (2, format!("{s:02}"))
        } else if take("PM") {
            (2, if h >= 12 { "PM".into() } else { "AM".into() })
        } else if take("pm") {
            (2, if h >= 12 { "pm".into() } else { "am".into() })
        } else if take("-07:00") {
            (6, "+00:00".into())
        } else if take("-0700") {
            (5, "+0000".into())
        } else if take("Z07:00") {
            (6, "Z".into())
        } else if take("Z0700") {
            (5, "Z".into())
        } else if take(".000000000") || take(".999999999") || take(",000000000") || take(",999999999") {
            let trim = r.as_bytes()[1] == b'9';
            let mut f = format!("{nanos:09}");
            if trim {
                while f.ends_with('0') {
                    f.pop();
                }
            }
            (10, if f.is_empty() { String::new() } else { format!(".{f}") })
        } else if take(".000000") || take(".999999") {
            let trim = r.as_bytes()[1] == b'9';
            let mut f = format!("{:06}", nanos / 1000);
            if trim {
                while f.ends_with('0') {
                    f.pop();
                }
            }
            (7, if f.is_empty() { String::new() } else { format!(".{f}") })
        } else if take(".000") || take(".999") {
            let trim = r.as_bytes()[1] == b'9';
            let mut f = format!("{:03}", nanos / 1_000_000);
            if trim {
                while f.ends_with('0') {
                    f.pop();
                }
            }
            (4, if f.is_empty() { String::new() } else { format!(".{f}") })
        } else if take("1") {
            (1, mo.to_string())
        } else if take("2") {
            (1, d.to_string())
        } else if take("3") {
            (1, (if h % 12 == 0 { 12 } else { h % 12 }).to_string())
        } else if take("4") {
            (1, mi.to_string())
        } else if take("5") {
            (1, s.to_string())
        } else {
            let c = r.chars().next().unwrap();
            (c.len_utf8(), c.to_string())
        };
        out.push_str(&rep);
        r = &r[tok..];
    }
    out
}

/// Parses a time with a Go layout (numeric fields only), UTC.
pub fn parse_time(layout: &str, v: &str) -> Option<i64> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut ns) = (1i64, 1u32, 1u32, 0i64, 0i64, 0i64, 0i64);
    let mut l = layout;
    let mut r = v;
    let num = |r: &mut &str, n: usize| -> Option<i64> {
        let t = r.get(..n)?;
        let x = t.parse().ok()?;
        *r = &r[n..];
        Some(x)
    };
    while !l.is_empty() {
        if l.starts_with("2006") {
            y = num(&mut r, 4)?;
            l = &l[4..];
        } else if l.starts_with("01") {
            mo = num(&mut r, 2)? as u32;
            l = &l[2..];
        } else if l.starts_with("02") {
            d = num(&mut r, 2)? as u32;
            l = &l[2..];
        } else if l.starts_with("15") {
            h = num(&mut r, 2)?;
            l = &l[2..];
        } else if l.starts_with("04") {
            mi = num(&mut r, 2)?;
            l = &l[2..];
        } else if (l.starts_with(".0") || l.starts_with(".9") || l.starts_with(",0") || l.starts_with(",9"))
            && l[1..].bytes().take_while(|c| *c == l.as_bytes()[1]).count() > 0
        {
            let n = l[1..].bytes().take_while(|c| *c == l.as_bytes()[1]).count();
            l = &l[1 + n..];
            if let Some(rest) = r.strip_prefix('.').or_else(|| r.strip_prefix(',')) {
                let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                let mut f = digits.clone();
                f.truncate(9);
                while f.len() < 9 {
                    f.push('0');
                }
                ns = f.parse().ok()?;
                r = &rest[digits.len()..];
            }
        } else if l.starts_with("05") {
            s = num(&mut r, 2)?;
            l = &l[2..];
            if r.starts_with('.') && !l.starts_with('.') {
                let digits: String = r[1..].chars().take_while(|c| c.is_ascii_digit()).collect();
                let mut f = digits.clone();
                f.truncate(9);
                while f.len() < 9 {
                    f.push('0');
                }
                ns = f.parse().ok()?;
                r = &r[1 + digits.len()..];
            }
        } else if l.starts_with("Z07:00") {
            if r.starts_with('Z') {
                r = &r[1..];
            } else {
                r = r.get(6..)?;
            }
            l = &l[6..];
        } else {
            let c = l.chars().next()?;
            if !r.starts_with(c) {
                return None;
            }
            l = &l[c.len_utf8()..];
            r = &r[c.len_utf8()..];
        }
    }
    if !r.is_empty() {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(((days * 86400 + h * 3600 + mi * 60 + s) * 1_000_000_000) + ns)
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
