//! Python's tracebacks: `Traceback (most recent call last):`, indented frames and source lines
//! (with 3.11's `^^^` markers), then the unindented `ValueError: msg` that ends it, unless a blank
//! line and `During handling of the above exception...` or `The above exception was the direct
//! cause...` chain another traceback to it.

use super::{Step, indented};

const TRACEBACK: &str = "Traceback (most recent call last):";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Frames: indented lines, until the exception line.
    Frames,
    /// After the exception line: only a chained traceback continues.
    Raised,
    /// After "During handling..." / "The above exception...": the next traceback.
    Chained,
}

pub fn start(line: &str) -> Option<Phase> {
    (line == TRACEBACK).then_some(Phase::Frames)
}

pub fn next(p: &mut Phase, line: &str, blank: bool, after_blank: bool) -> Step {
    if blank {
        return Step::Hold;
    }
    match p {
        Phase::Frames if indented(line) => Step::Join,
        Phase::Frames if after_blank => Step::End,
        Phase::Frames => {
            *p = Phase::Raised;
            Step::Join
        }
        Phase::Raised
            if after_blank
                && (line.starts_with("During handling of the above exception")
                    || line.starts_with("The above exception was the direct cause")) =>
        {
            *p = Phase::Chained;
            Step::Join
        }
        Phase::Chained if line == TRACEBACK => {
            *p = Phase::Frames;
            Step::Join
        }
        _ => Step::End,
    }
}
