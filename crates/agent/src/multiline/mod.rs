//! Recognisers of the traces runtimes print when a program crashes or logs an exception, so that
//! each arrives as one entry without any configuration: Go panics and fatal errors with their
//! goroutine dumps, Python tracebacks (chained ones too), Java/Kotlin exceptions, Node errors
//! (thrown or logged) and Ruby backtraces.
//!
//! A recogniser starts on a line only a trace starts with and then says, line by line, whether
//! the next one belongs to it. It knows each runtime's shape: unindented lines a trace has (a Go
//! dump's `main.main()`, Python's final `ValueError: msg`, Java's `Caused by:`), the blank lines
//! inside one (Go, chained Python, Node), and where it ends, so an ordinary line after a finished
//! trace starts a new entry. Pure, allocation-free byte tests: every line of every container
//! passes here.

mod go;
mod jvm;
mod node;
mod python;
mod ruby;

/// Whether the line after the ones already joined belongs to the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Append it.
    Join,
    /// Append it: it ends the trace, the entry is complete.
    Last,
    /// A blank line: it belongs only if the line after it joins.
    Hold,
    /// It does not belong: the entry is complete, the line starts another.
    End,
}

/// The trace an entry is, and how far into it the lines are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trace {
    Go(go::Phase),
    Python(python::Phase),
    Jvm,
    Node(node::Phase),
    Ruby,
}

impl Trace {
    /// The trace a line starts, if it is the first line of one.
    pub fn start(line: &str) -> Option<Trace> {
        if let Some(p) = go::start(line) {
            return Some(Trace::Go(p));
        }
        if let Some(p) = python::start(line) {
            return Some(Trace::Python(p));
        }
        match exception_name(line) {
            Some(name) if name.contains('.') || name == "Exception in thread" => return Some(Trace::Jvm),
            Some(_) => return Some(Trace::Node(node::Phase::Frames { props: false })),
            None => {}
        }
        if let Some(p) = node::start(line) {
            return Some(Trace::Node(p));
        }
        ruby::start(line).then_some(Trace::Ruby)
    }

    /// Whether `line` continues the trace; `after_blank` when blank lines were held before it.
    pub fn next(&mut self, line: &str, after_blank: bool) -> Step {
        let blank = is_blank(line);
        match self {
            Trace::Go(p) => go::next(p, line, blank, after_blank),
            Trace::Python(p) => python::next(p, line, blank, after_blank),
            Trace::Jvm => jvm::next(line, blank),
            Trace::Node(p) => node::next(p, line, blank, after_blank),
            Trace::Ruby => ruby::next(line, blank),
        }
    }
}

/// Lines that continue any entry when no trace was recognised: indented ones, `Caused by:`.
pub fn continues_plain(line: &str) -> bool {
    indented(line) || line.starts_with("Caused by:")
}

fn indented(line: &str) -> bool {
    line.starts_with([' ', '\t'])
}

fn is_blank(line: &str) -> bool {
    line.bytes().all(|b| b.is_ascii_whitespace())
}

/// The exception a line names first, the way runtimes print one: `java.lang.IllegalStateException:
/// x`, `TypeError: x`, `Error [ERR_X]: x`, `json.decoder.JSONDecodeError: x`, or `Exception in
/// thread` (Java's uncaught form).
fn exception_name(line: &str) -> Option<&str> {
    if line.starts_with("Exception in thread \"") {
        return Some("Exception in thread");
    }
    let b = line.as_bytes();
    let end = b.iter().position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'.'))).unwrap_or(b.len());
    let name = &line[..end];
    let rest = &line[end..];
    let named = ["Error", "Exception", "Throwable"].iter().any(|s| name.ends_with(s));
    let first = b.first().is_some_and(u8::is_ascii_alphabetic);
    let follows = rest.is_empty() || rest.starts_with(": ") || rest.starts_with(" [");
    (named && first && follows && !name.ends_with('.')).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts() {
        assert_eq!(exception_name("java.lang.IllegalStateException: x"), Some("java.lang.IllegalStateException"));
        assert_eq!(exception_name("TypeError: x"), Some("TypeError"));
        assert_eq!(exception_name("Error [ERR_HTTP_HEADERS_SENT]: Cannot set headers"), Some("Error"));
        assert_eq!(exception_name("Error"), Some("Error"));
        assert_eq!(exception_name("Error connecting to db"), None);
        assert_eq!(exception_name("ErrorCount: 3 errors"), None);
        assert_eq!(exception_name("2026-12-02 Error: x"), None);
        assert_eq!(Trace::start("2026-12-02 07:00:00 INFO started"), None);
        assert_eq!(Trace::start("GET /x 200"), None);
        assert_eq!(Trace::start("  indented"), None);
        assert_eq!(Trace::start(""), None);
        assert!(matches!(Trace::start("panic: boom"), Some(Trace::Go(_))));
        assert!(matches!(Trace::start("Traceback (most recent call last):"), Some(Trace::Python(_))));
        assert!(matches!(Trace::start("Exception in thread \"main\" java.lang.Error: x"), Some(Trace::Jvm)));
        assert!(matches!(Trace::start("/app/x.js:12"), Some(Trace::Node(_))));
        assert!(matches!(Trace::start("app.rb:3:in `foo': boom (RuntimeError)"), Some(Trace::Ruby)));
    }
}
