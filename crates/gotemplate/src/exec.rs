//! Executing a parsed template: the dot, variables and their scopes, fields, pipelines,
//! `if`/`with`/`range`, and Go's error context (`template: NAME:LINE:COL: executing ...`).

use std::sync::Arc;

use crate::funcs::{self, FuncSet};
use crate::parse::line_of;
use crate::tree::{Arg, Node, Pipeline};
use crate::value::{MapKind, Value};
use crate::{Host, Template};

/// Upper bound on what one execution may write.
pub const MAX_OUTPUT: usize = 16 << 20;
/// Upper bound on the nodes and commands one execution may run (`range` over `range` ...).
pub const MAX_STEPS: usize = 1_000_000;

impl Template {
    /// Executes with `dot` as `.` and `$`, the host's data and functions, and variables
    /// declared before the text (`$labels` ...).
    pub fn execute_with(&self, dot: &Value, host: &dyn Host, vars: &[(&str, Value)]) -> Result<String, String> {
        let mut out = String::new();
        let vars = vars.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
        let mut st = State { tpl: self, host, root: dot, vars, steps: 0 };
        st.list(&self.nodes, dot, &mut out).map_err(|e| format!("template: {e}"))?;
        Ok(out)
    }
}

enum Flow {
    Next,
    Break,
    Continue,
}

struct State<'a> {
    tpl: &'a Template,
    host: &'a dyn Host,
    /// `$`
    root: &'a Value,
    vars: Vec<(String, Value)>,
    steps: usize,
}

impl State<'_> {
    /// Go's `NAME:LINE:COL: executing "NAME" at <f>: error` context.
    fn at(&self, f: &str, pos: usize, e: String) -> String {
        let src = &self.tpl.src;
        let text = &src[..pos.min(src.len())];
        let line = line_of(src, pos);
        let col = match text.rfind('\n') {
            Some(i) => pos - i - 1,
            None => pos,
        };
        let name = &self.tpl.name;
        format!("{name}:{line}:{col}: executing {} at <{f}>: {e}", model::quote_go(name))
    }

    fn step(&mut self) -> Result<(), String> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(format!("{}: execution too long (more than {MAX_STEPS} steps)", self.tpl.name));
        }
        Ok(())
    }

    fn print(&self, v: &Value, out: &mut String) -> Result<(), String> {
        match v {
            Value::Root => out.push_str(&Value::Map(Arc::new(self.host.root_map())).to_go_string()),
            v => out.push_str(&v.to_go_string()),
        }
        if out.len() > MAX_OUTPUT {
            return Err(format!("{}: output too large (more than {} MiB)", self.tpl.name, MAX_OUTPUT >> 20));
        }
        Ok(())
    }

    fn list(&mut self, nodes: &[Node], dot: &Value, out: &mut String) -> Result<Flow, String> {
        for n in nodes {
            self.step()?;
            match n {
                Node::Text(t) => {
                    out.push_str(t);
                    if out.len() > MAX_OUTPUT {
                        return Err(format!(
                            "{}: output too large (more than {} MiB)",
                            self.tpl.name,
                            MAX_OUTPUT >> 20
                        ));
                    }
                }
                Node::Action(p) => {
                    let v = self.pipe(p, dot)?;
                    if p.decl.is_empty() {
                        self.print(&v, out)?;
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
                Node::If(branches, else_body) => {
                    let mark = self.vars.len();
                    let mut taken = None;
                    for (p, body) in branches {
                        if self.pipe(p, dot)?.truth() {
                            taken = Some(body);
                            break;
                        }
                    }
                    let f = self.list(taken.unwrap_or(else_body), dot, out);
                    self.vars.truncate(mark);
                    match f? {
                        Flow::Next => {}
                        f => return Ok(f),
                    }
                }
                Node::With(p, body, else_body) => {
                    let mark = self.vars.len();
                    let v = self.pipe(p, dot)?;
                    let f = if v.truth() { self.list(body, &v, out) } else { self.list(else_body, dot, out) };
                    self.vars.truncate(mark);
                    match f? {
                        Flow::Next => {}
                        f => return Ok(f),
                    }
                }
                Node::Range(p, body, else_body) => {
                    let mark = self.vars.len();
                    let f = self.range(p, body, else_body, dot, out);
                    self.vars.truncate(mark);
                    match f? {
                        Flow::Next => {}
                        f => return Ok(f),
                    }
                }
            }
        }
        Ok(Flow::Next)
    }

    fn range(
        &mut self,
        p: &Pipeline,
        body: &[Node],
        else_body: &[Node],
        dot: &Value,
        out: &mut String,
    ) -> Result<Flow, String> {
        // The pipeline without its declarations: they are set per element.
        let plain = Pipeline { decl: Vec::new(), assign: false, cmds: p.cmds.clone() };
        let v = self.pipe(&plain, dot)?;
        let elems: Vec<(Value, Value)> = match &v {
            Value::Root => self.host.root_map().entries.into_iter().map(|(k, v)| (Value::Str(k), v)).collect(),
            Value::Map(m) if matches!(m.kind, MapKind::Strings | MapKind::Any) => {
                m.entries.iter().map(|(k, v)| (Value::Str(k.clone()), v.clone())).collect()
            }
            Value::List(l) => l.iter().enumerate().map(|(i, v)| (Value::Int(i as i64), v.clone())).collect(),
            Value::Nil => Vec::new(),
            Value::Int(n) if *n >= 0 => (0..*n).map(|i| (Value::Int(i), Value::Int(i))).collect(),
            v => return Err(format!("range can't iterate over {}", v.to_go_string())),
        };
        if elems.is_empty() {
            return self.list(else_body, dot, out).map(|_| Flow::Next);
        }
        let mark = self.vars.len();
        for (k, e) in elems {
            match p.decl.len() {
                0 => {}
                1 => self.vars.push((p.decl[0].clone(), e.clone())),
                _ => {
                    self.vars.push((p.decl[0].clone(), k));
                    self.vars.push((p.decl[1].clone(), e.clone()));
                }
            }
            let f = self.list(body, &e, out)?;
            self.vars.truncate(mark);
            if let Flow::Break = f {
                break;
            }
        }
        Ok(Flow::Next)
    }

    fn pipe(&mut self, p: &Pipeline, dot: &Value) -> Result<Value, String> {
        let mut prev: Option<Value> = None;
        for cmd in &p.cmds {
            self.step()?;
            prev = Some(self.cmd(cmd, prev, dot)?);
        }
        let v = prev.unwrap_or(Value::Nil);
        if let Some(d) = p.decl.first() {
            if p.assign {
                if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == d) {
                    slot.1 = v.clone();
                }
            } else {
                self.vars.push((d.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn field(&self, v: Value, name: &str, what: &dyn Fn() -> String, at: usize) -> Result<Value, String> {
        Ok(match v {
            Value::Root => self.host.root_field(name),
            Value::Map(m) => match m.get(name) {
                Some(x) => x.clone(),
                None => match m.kind {
                    MapKind::Strings => Value::Str(String::new()),
                    MapKind::Any => Value::Nil,
                    MapKind::Struct(t) => {
                        return Err(self.at(&what(), at, format!("can't evaluate field {name} in type {t}")));
                    }
                },
            },
            Value::Nil => Value::Nil,
            v => return Err(self.at(&what(), at, format!("can't evaluate field {name} in type {}", v.type_name()))),
        })
    }

    fn path(&self, mut v: Value, path: &[String], what: &dyn Fn() -> String, at: usize) -> Result<Value, String> {
        for f in path {
            v = self.field(v, f, what, at)?;
        }
        Ok(v)
    }

    fn arg(&mut self, a: &Arg, dot: &Value) -> Result<Value, String> {
        Ok(match a {
            Arg::Dot => dot.clone(),
            Arg::Field(path, at) => match (dot, path.as_slice()) {
                (Value::Root, [name]) => self.host.root_field(name),
                _ => self.path(dot.clone(), path, &|| format!(".{}", path.join(".")), *at)?,
            },
            Arg::Var(v, path, at) => {
                let base = if v.is_empty() {
                    self.root.clone()
                } else {
                    self.vars
                        .iter()
                        .rev()
                        .find(|(n, _)| n == v)
                        .map(|(_, v)| v.clone())
                        .ok_or_else(|| format!("undefined variable: ${v}"))?
                };
                if path.is_empty() { base } else { self.path(base, path, &|| format!("${v}.{}", path.join(".")), *at)? }
            }
            Arg::Lit(v) => v.clone(),
            Arg::Func(f, at, host, end) => self.call(f, *at, *end, *host, vec![])?,
            Arg::Sub(p, path) => {
                let v = self.pipe(p, dot)?;
                self.path(v, path, &|| "(...)".to_string(), 0)?
            }
        })
    }

    fn call(&mut self, f: &str, at: usize, end: usize, host: bool, args: Vec<Value>) -> Result<Value, String> {
        let r = if host {
            match self.tpl.host_arity(f) {
                Some(n) if n != args.len() => Err(format!("wrong number of args for {f}: want {n} got {}", args.len())),
                _ => self.host.call(f, &args),
            }
        } else {
            funcs::call(self.tpl.funcs, f, args, self.host)
        };
        r.map_err(|e| {
            let e = if e.starts_with("error calling")
                || e.starts_with("wrong number of args")
                || e.starts_with("wrong type for value")
            {
                e
            } else {
                format!("error calling {f}: {e}")
            };
            // Prometheus' Go prints the whole command (`<humanize "one">`), Loki's the name.
            let what = match self.tpl.funcs {
                FuncSet::Prometheus => self.tpl.src.get(at..end).map(str::trim_end).unwrap_or(f),
                FuncSet::Sprig => f,
            };
            self.at(what, at, e)
        })
    }

    fn cmd(&mut self, cmd: &[Arg], prev: Option<Value>, dot: &Value) -> Result<Value, String> {
        if let Arg::Func(f, at, host, end) = &cmd[0] {
            let mut args = Vec::with_capacity(cmd.len());
            for a in &cmd[1..] {
                args.push(self.arg(a, dot)?);
            }
            if let Some(p) = prev {
                args.push(p);
            }
            return self.call(f, *at, *end, *host, args);
        }
        if cmd.len() > 1 || prev.is_some() {
            return Err("can't give argument to non-function".into());
        }
        self.arg(&cmd[0], dot)
    }
}
