//! Parsing a template: actions into pipelines and operands, `if`/`with`/`range` blocks into
//! nodes; functions must exist and variables must be declared (Go's parse-time checks).

use crate::funcs::FuncSet;
use crate::go::parse_go_float;
use crate::lex::{Item, PErr, T, lex_action, split_items};
use crate::tree::{Arg, Node, Pipeline};
use crate::value::{Value, parse_go_int};
use crate::{Options, Template};

/// The deepest nesting of `if`/`with`/`range` blocks, and of parenthesised pipelines within an
/// action, a template may have: parsing and executing recurse once per level.
pub const MAX_TEMPLATE_DEPTH: usize = 64;

/// What parsing collects besides the nodes.
struct Ctx<'a> {
    opts: &'a Options<'a>,
    /// Variables in scope (innermost last).
    vars: Vec<String>,
    fields: Vec<String>,
    funcs_used: Vec<String>,
    /// `range` blocks open around the position (for `break`/`continue`).
    in_range: usize,
}

struct PState<'a, 'c> {
    toks: &'a [(T, usize)],
    i: usize,
    /// Parentheses open around the position.
    depth: usize,
    end: usize,
    cx: &'a mut Ctx<'c>,
}

impl PState<'_, '_> {
    fn at(&self) -> usize {
        self.toks.get(self.i).map(|t| t.1).unwrap_or(self.end)
    }

    fn pipeline(&mut self, decl_ok: bool) -> Result<Pipeline, PErr> {
        let mut decl = Vec::new();
        let mut assign = false;
        // `$x :=`, `$x =`, `$k, $v :=`
        let mut j = self.i;
        let mut names = Vec::new();
        while let Some((T::Var(v), _)) = self.toks.get(j) {
            names.push(v.clone());
            match self.toks.get(j + 1) {
                Some((T::Comma, _)) if names.len() == 1 => j += 2,
                Some((T::Decl | T::Assign, _)) => {
                    assign = self.toks[j + 1].0 == T::Assign;
                    if names.len() > 1 && !decl_ok {
                        return Err(("too many declarations in command".into(), self.toks[self.i].1));
                    }
                    decl = names.clone();
                    self.i = j + 2;
                    break;
                }
                _ => break,
            }
        }
        let mut cmds = Vec::new();
        loop {
            let mut args = Vec::new();
            while let Some((t, _)) = self.toks.get(self.i) {
                match t {
                    T::Pipe | T::RParen => break,
                    _ => args.push(self.operand()?),
                }
            }
            if args.is_empty() {
                return Err(("missing value for command".into(), self.at()));
            }
            let cmd_end = self.at();
            if let Some(Arg::Func(_, _, _, end)) = args.first_mut() {
                *end = cmd_end;
            }
            cmds.push(args);
            if matches!(self.toks.get(self.i), Some((T::Pipe, _))) {
                self.i += 1;
            } else {
                break;
            }
        }
        for d in &decl {
            if assign {
                if !self.cx.vars.contains(d) {
                    return Err((format!("undefined variable \"${d}\""), self.at()));
                }
            } else {
                self.cx.vars.push(d.clone());
            }
        }
        Ok(Pipeline { decl, assign, cmds })
    }

    fn chain(&mut self) -> Vec<String> {
        let mut path = Vec::new();
        while let Some((T::Chain(g), _)) = self.toks.get(self.i) {
            path.push(g.clone());
            self.i += 1;
        }
        path
    }

    fn operand(&mut self) -> Result<Arg, PErr> {
        let (t, at) = self.toks[self.i].clone();
        self.i += 1;
        Ok(match t {
            T::Dot => Arg::Dot,
            T::Field(f) => {
                let mut path = vec![f];
                path.extend(self.chain());
                self.cx.fields.push(path[0].clone());
                Arg::Field(path, at)
            }
            T::Var(v) => {
                if !self.cx.vars.contains(&v) {
                    return Err((format!("undefined variable \"${v}\""), at));
                }
                let path = self.chain();
                Arg::Var(v, path, at)
            }
            T::Str(s) => Arg::Lit(Value::Str(s)),
            T::Num(n) => {
                if let Some(i) = parse_go_int(&n) {
                    Arg::Lit(Value::Int(i))
                } else {
                    Arg::Lit(Value::Float(
                        parse_go_float(&n).map_err(|_| (format!("illegal number syntax: {n:?}"), at))?,
                    ))
                }
            }
            T::Ident(id) => match id.as_str() {
                "true" => Arg::Lit(Value::Bool(true)),
                "false" => Arg::Lit(Value::Bool(false)),
                "nil" => Arg::Lit(Value::Nil),
                _ => {
                    let host = self.cx.opts.host_funcs.iter().any(|(n, _)| *n == id);
                    if !host {
                        if let Some(why) = self.cx.opts.funcs.unsupported(&id) {
                            return Err((format!("function {id:?} is not supported: {why}"), at));
                        }
                        if !self.cx.opts.funcs.defines(&id) {
                            return Err((format!("function {id:?} not defined"), at));
                        }
                    }
                    if !self.cx.funcs_used.contains(&id) {
                        self.cx.funcs_used.push(id.clone());
                    }
                    let end = at + id.len();
                    Arg::Func(id, at, host, end)
                }
            },
            T::LParen => {
                if self.depth >= MAX_TEMPLATE_DEPTH {
                    return Err((format!("parentheses nested too deep (max {MAX_TEMPLATE_DEPTH})"), at));
                }
                self.depth += 1;
                let p = self.pipeline(false)?;
                self.depth -= 1;
                if !matches!(self.toks.get(self.i), Some((T::RParen, _))) {
                    return Err(("unclosed left paren".into(), at));
                }
                self.i += 1;
                let path = self.chain();
                Arg::Sub(Box::new(p), path)
            }
            t => return Err((format!("unexpected {} in operand", describe(&t)), at)),
        })
    }
}

fn describe(t: &T) -> String {
    match t {
        T::Pipe => "\"|\"".into(),
        T::RParen => "\")\"".into(),
        T::Comma => "\",\"".into(),
        T::Decl => "\":=\"".into(),
        T::Assign => "\"=\"".into(),
        T::Chain(c) => format!("<.{c}>"),
        t => format!("{t:?}"),
    }
}

/// 1-based line of a byte offset.
pub(crate) fn line_of(src: &str, at: usize) -> usize {
    1 + src.as_bytes()[..at.min(src.len())].iter().filter(|b| **b == b'\n').count()
}

impl Template {
    /// Parses `src`; errors read like Go's (`template: NAME:LINE: message`).
    pub fn parse_with(src: &str, opts: &Options) -> Result<Template, String> {
        let fail = |(msg, at): PErr| format!("template: {}:{}: {msg}", opts.name, line_of(src, at));
        let items = split_items(src).map_err(fail)?;
        let mut vars: Vec<String> = vec![String::new()];
        vars.extend(opts.vars.iter().map(|v| v.to_string()));
        let mut cx = Ctx { opts, vars, fields: Vec::new(), funcs_used: Vec::new(), in_range: 0 };
        let mut pos = 0;
        let (nodes, term) = parse_list(&items, &mut pos, &mut cx, 0).map_err(fail)?;
        if let Some((t, at)) = term {
            return Err(fail((format!("unexpected {{{{{t}}}}}"), at)));
        }
        let Ctx { mut fields, mut funcs_used, .. } = cx;
        fields.sort();
        fields.dedup();
        funcs_used.sort();
        Ok(Template {
            nodes,
            name: opts.name.to_string(),
            src: src.to_string(),
            fields,
            funcs_used,
            funcs: opts.funcs,
            host_funcs: opts.host_funcs.iter().map(|(n, a)| (n.to_string(), *a)).collect(),
        })
    }
}

/// An `end`/`else ...` action text and its offset.
type Terminator = (String, usize);

/// Parses nodes until `end`/`else` (returned as the terminator) or the end of input.
fn parse_list(
    items: &[Item],
    pos: &mut usize,
    cx: &mut Ctx,
    depth: usize,
) -> Result<(Vec<Node>, Option<Terminator>), PErr> {
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
                let word = a.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("");
                match word {
                    "end" => return Ok((nodes, Some(("end".into(), at)))),
                    "else" => return Ok((nodes, Some((a.clone(), at)))),
                    "break" | "continue" if a == word => {
                        if cx.in_range == 0 {
                            return Err((format!("{{{{{word}}}}} outside {{{{range}}}}"), at));
                        }
                        nodes.push(if word == "break" { Node::Break } else { Node::Continue });
                    }
                    "define" | "template" | "block" => {
                        return Err((format!("{{{{{word}}}}} is not supported (one template per text)"), at));
                    }
                    "if" | "with" | "range" => nodes.push(parse_block(word, a, at, items, pos, cx, depth)?),
                    "" if a.is_empty() => return Err(("missing value for command".into(), at)),
                    _ => {
                        let p = parse_pipe(a, at, cx, false)?;
                        nodes.push(Node::Action(p));
                    }
                }
            }
        }
    }
    Ok((nodes, None))
}

fn parse_block(
    word: &str,
    a: &str,
    at: usize,
    items: &[Item],
    pos: &mut usize,
    cx: &mut Ctx,
    depth: usize,
) -> Result<Node, PErr> {
    if depth >= MAX_TEMPLATE_DEPTH {
        return Err((format!("{word} blocks nested too deep (max {MAX_TEMPLATE_DEPTH})"), at));
    }
    // Variables declared in the block's pipelines live until its `end`.
    let scope = cx.vars.len();
    let mut p = parse_pipe(&a[word.len()..], at + word.len(), cx, word == "range")?;
    let mut branches = Vec::new();
    let mut else_body = Vec::new();
    loop {
        if word == "range" {
            cx.in_range += 1;
        }
        let body = parse_list(items, pos, cx, depth + 1);
        if word == "range" {
            cx.in_range -= 1;
        }
        let (body, term) = body?;
        let Some((term, term_at)) = term else {
            return Err(("unexpected EOF".into(), items_end(items)));
        };
        branches.push((p, body));
        if term == "end" {
            break;
        }
        // else / else if
        let rest = term["else".len()..].trim();
        if word == "if" && (rest.starts_with("if ") || rest.starts_with("if\t")) {
            let off = term_at + (rest.as_ptr() as usize - term.as_ptr() as usize) + 2;
            p = parse_pipe(&rest[2..], off, cx, false)?;
            continue;
        }
        if !rest.is_empty() {
            return Err((format!("unexpected {rest:?} after else"), term_at));
        }
        let (eb, t2) = parse_list(items, pos, cx, depth + 1)?;
        match t2 {
            Some((t, _)) if t == "end" => {}
            Some((_, a2)) => return Err(("expected end; found else".into(), a2)),
            None => return Err(("unexpected EOF".into(), items_end(items))),
        }
        else_body = eb;
        break;
    }
    cx.vars.truncate(scope);
    Ok(match word {
        "if" => Node::If(branches, else_body),
        "with" => {
            let (p, b) = branches.remove(0);
            Node::With(p, b, else_body)
        }
        _ => {
            let (p, b) = branches.remove(0);
            Node::Range(p, b, else_body)
        }
    })
}

fn items_end(items: &[Item]) -> usize {
    items
        .iter()
        .rev()
        .find_map(|i| match i {
            Item::Action(_, at) => Some(*at),
            Item::Text(_) => None,
        })
        .unwrap_or(0)
}

fn parse_pipe(s: &str, base: usize, cx: &mut Ctx, decl_ok: bool) -> Result<Pipeline, PErr> {
    let toks = lex_action(s, base)?;
    let mut st = PState { toks: &toks, i: 0, depth: 0, end: base + s.len(), cx };
    let p = st.pipeline(decl_ok)?;
    if let Some((t, at)) = toks.get(st.i) {
        return Err((format!("unexpected {} in operand", describe(t)), *at));
    }
    Ok(p)
}

impl FuncSet {
    /// Parses with this function set and nothing else (no host functions or variables).
    pub fn parse(self, src: &str, name: &str) -> Result<Template, String> {
        Template::parse_with(src, &Options { name, funcs: self, host_funcs: &[], vars: &[] })
    }
}
