//! Executing a parsed template against one entry's labels, line and timestamp.

use super::functions::call;
use super::{Arg, Ctx, Node, Pipeline, Template, Val};

impl Template {
    pub fn execute(&self, ctx: &Ctx) -> Result<String, String> {
        let mut out = String::new();
        let mut vars: Vec<(String, Val)> = Vec::new();
        let env = Env { ctx, name: &self.name, src: &self.src };
        exec_list(&self.nodes, &env, &mut out, &mut vars).map_err(|e| format!("template: {e}"))?;
        Ok(out)
    }
}

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
