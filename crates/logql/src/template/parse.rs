//! Parsing a template: splitting text from `{{ actions }}`, lexing actions, building nodes.

use super::functions::FUNCS;
use super::{Arg, Node, Pipeline, Template, Val, parse_go_int};
use crate::go;

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

/// The deepest nesting of `if`/`with`/`range` blocks, and of parenthesised pipelines within an
/// action, a template may have: parsing and executing recurse once per level. (As deep as a
/// query may nest.)
pub const MAX_TEMPLATE_DEPTH: usize = 64;

struct PState<'a> {
    toks: &'a [T],
    i: usize,
    /// Parentheses open around the position.
    depth: usize,
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
                    Arg::Lit(Val::Float(go::parse_go_float(&n).map_err(|_| format!("illegal number syntax: {n:?}"))?))
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
                if self.depth >= MAX_TEMPLATE_DEPTH {
                    return Err(format!("parentheses nested too deep (max {MAX_TEMPLATE_DEPTH})"));
                }
                self.depth += 1;
                let p = self.pipeline()?;
                self.depth -= 1;
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
        let (nodes, term) = parse_list(&items, &mut pos, &mut fields, &mut uses_line, 0)?;
        if let Some(t) = term {
            return Err(format!("template: unexpected {{{{{}}}}}", t.0));
        }
        fields.sort();
        fields.dedup();
        Ok(Template { nodes, name: "line".into(), src: src.to_string(), fields, uses_line })
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
    depth: usize,
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
                        if depth >= MAX_TEMPLATE_DEPTH {
                            return Err(format!("template: {word} blocks nested too deep (max {MAX_TEMPLATE_DEPTH})"));
                        }
                        let mut p = parse_pipe(&a[word.len()..], at + word.len(), fields, uses_line)?;
                        let mut branches = Vec::new();
                        let mut else_body = Vec::new();
                        loop {
                            let (body, term) = parse_list(items, pos, fields, uses_line, depth + 1)?;
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
                            let (eb, t2) = parse_list(items, pos, fields, uses_line, depth + 1)?;
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
    let mut st = PState { toks: &toks, i: 0, depth: 0, fields, uses_line };
    let p = st.pipeline().map_err(|e| format!("template: {e}"))?;
    if st.i != toks.len() {
        return Err(format!("template: unexpected {:?} in operand", toks[st.i]));
    }
    Ok(p)
}
