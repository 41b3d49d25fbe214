//! Function sets: Go's builtins plus either the functions Loki registers for `line_format`
//! (Sprig's subset and Go's `strings`) or Prometheus' template functions.

mod builtin;
mod decimal;
mod encoding;
mod prometheus;
mod sprig;

use crate::Host;
use crate::value::Value;

/// Which functions a template may call besides Go's builtins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FuncSet {
    /// The Sprig subset and Go `strings` functions Loki's `line_format`/`label_format` register.
    Sprig,
    /// Prometheus' alert and console template functions (those that need no query engine).
    Prometheus,
}

impl FuncSet {
    /// Whether `name` is a function of this set (builtins included).
    pub fn defines(self, name: &str) -> bool {
        builtin::FUNCS.contains(&name)
            || match self {
                FuncSet::Sprig => sprig::FUNCS.contains(&name),
                FuncSet::Prometheus => prometheus::FUNCS.contains(&name),
            }
    }

    /// Why a function the original set has is not available here, if that is the case.
    pub fn unsupported(self, name: &str) -> Option<&'static str> {
        match self {
            FuncSet::Sprig => None,
            FuncSet::Prometheus => prometheus::unsupported(name),
        }
    }

    /// (minimum, maximum) argument counts.
    fn arity(self, f: &str) -> (usize, Option<usize>) {
        match self {
            FuncSet::Prometheus if prometheus::FUNCS.contains(&f) => prometheus::arity(f),
            _ => sprig::arity(f),
        }
    }
}

/// Calls `f` of `set` with `args` (the piped value last).
pub(crate) fn call(set: FuncSet, f: &str, args: Vec<Value>, host: &dyn Host) -> Result<Value, String> {
    let (min, max) = set.arity(f);
    if args.len() < min || max.is_some_and(|m| args.len() > m) {
        let want = if max == Some(min) { min.to_string() } else { format!("at least {min}") };
        return Err(format!("wrong number of args for {f}: want {want} got {}", args.len()));
    }
    if let Some(r) = builtin::call(f, &args, host) {
        return r;
    }
    match set {
        FuncSet::Sprig => sprig::call(f, args),
        FuncSet::Prometheus => prometheus::call(f, args),
    }
}

/// Title-cases words: a letter after a non-letter is upper-cased, the rest kept.
pub(crate) fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_letter = false;
    for c in s.chars() {
        if !prev_letter {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
    }
    out
}
