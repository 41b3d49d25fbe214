//! Ruby's uncaught exceptions: ``app.rb:11:in `price': msg (ArgumentError)`` (3.4 quotes with
//! `'`), then `\tfrom file:line:in ...` frames; Ruby 3.1+'s error highlight adds a blank line and
//! the indented source with `^^^^`. A cause printed after them (another such header) starts an
//! entry of its own: nothing tells it from the next crash of a restarted process.

use std::sync::LazyLock;

use regex::Regex;

use super::{Step, indented};

static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\S+:\d+:in [`'][^\n]*': (?:.* \([A-Z][\w:]*\)|unhandled exception)$").expect("ruby header regex")
});

/// A backtrace's first line: `file:line:in 'method': message (Class)`.
pub fn start(line: &str) -> bool {
    (line.ends_with(')') || line.ends_with("unhandled exception")) && line.contains(":in ") && HEADER.is_match(line)
}

pub fn next(line: &str, blank: bool) -> Step {
    if blank {
        Step::Hold
    } else if indented(line) {
        Step::Join
    } else {
        Step::End
    }
}
