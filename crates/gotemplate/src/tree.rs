//! The parsed form of a template: text and actions, pipelines and their operands.

use crate::value::Value;

/// An operand of a command.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// `.`
    Dot,
    /// `.a.b` (fields of the dot) and the byte offset of the `.`.
    Field(Vec<String>, usize),
    /// `$x.a.b` (`$` alone is the name ""), and the offset of the `$`.
    Var(String, Vec<String>, usize),
    Lit(Value),
    /// A function, its byte offset in the template, whether the host defines it, and where its
    /// command ends (for error context).
    Func(String, usize, bool, usize),
    /// `(pipeline).a.b`
    Sub(Box<Pipeline>, Vec<String>),
}

/// `$a, $b := cmd | cmd ...`
#[derive(Debug, Clone)]
pub(crate) struct Pipeline {
    pub decl: Vec<String>,
    /// `=` rather than `:=`.
    pub assign: bool,
    pub cmds: Vec<Vec<Arg>>,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Text(String),
    Action(Pipeline),
    /// `if` and its `else if` branches, then the `else` body.
    If(Vec<(Pipeline, Vec<Node>)>, Vec<Node>),
    With(Pipeline, Vec<Node>, Vec<Node>),
    Range(Pipeline, Vec<Node>, Vec<Node>),
    Break,
    Continue,
}
