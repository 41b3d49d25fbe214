//! Node's errors. Logged (`console.error(err)`): `TypeError: msg`, then `    at fn (file.js:1:2)`
//! frames, maybe a `{ code: ... }` block of the error's properties closed by an unindented `}`.
//! Uncaught: first the place (`/app/x.js:10`), the source line, a caret line (`    ^`), a blank
//! line, the error and its frames as above, then a blank line and `Node.js v20.20.2`.

use super::{Step, indented};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// After the place: the source line.
    Source,
    /// After the source line: the caret line.
    Caret,
    /// After the caret line: a blank line, then the error.
    Message,
    /// The frames; `props` while the error's `{ ... }` block is open.
    Frames { props: bool },
}

/// The place an uncaught error was thrown at: `/app/x.js:10`, `file:///app/x.mjs:3`.
pub fn start(line: &str) -> Option<Phase> {
    if !line.as_bytes().last()?.is_ascii_digit() || line.contains(char::is_whitespace) {
        return None;
    }
    let (path, n) = line.rsplit_once(':')?;
    let script = [".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"].iter().any(|x| path.ends_with(x));
    (script && n.bytes().all(|b| b.is_ascii_digit())).then_some(Phase::Source)
}

pub fn next(p: &mut Phase, line: &str, blank: bool, after_blank: bool) -> Step {
    match *p {
        Phase::Source if !blank => {
            *p = Phase::Caret;
            Step::Join
        }
        Phase::Caret if line.trim_start().starts_with('^') && line.bytes().all(|b| b == b' ' || b == b'^') => {
            *p = Phase::Message;
            Step::Join
        }
        Phase::Message if blank => Step::Hold,
        // The error (`TypeError: x`, or a thrown value that is not an Error).
        Phase::Message => {
            *p = Phase::Frames { props: false };
            Step::Join
        }
        Phase::Frames { .. } if blank => Step::Hold,
        Phase::Frames { .. } if after_blank => {
            if line.starts_with("Node.js v") {
                Step::Last
            } else {
                Step::End
            }
        }
        Phase::Frames { props } => {
            if indented(line) {
                if line.ends_with(" {") {
                    *p = Phase::Frames { props: true };
                }
                Step::Join
            } else if props && line == "}" {
                *p = Phase::Frames { props: false };
                Step::Join
            } else if line.starts_with("Node.js v") {
                Step::Last
            } else if line.starts_with("Emitted 'error' event") {
                Step::Join
            } else {
                Step::End
            }
        }
        _ => Step::End,
    }
}
