//! Crashes written by runtimes rather than loggers: a Go panic or fatal error, a Python
//! traceback, a Java uncaught exception, and joined stack traces (Java, Kotlin, Node, Ruby, Go
//! goroutine dumps) whose first line names no level. Byte tests only: every line passes here.

/// First lines only a crash starts with.
const STARTS: [&str; 5] =
    ["panic: ", "fatal error: ", "Traceback (most recent call last):", "Exception in thread \"", "Unhandled exception"];

/// A line of a stack trace, after a line break: Java/Kotlin `\tat`, Node `    at`, Ruby
/// `\tfrom`, Python `  File "`, a Go goroutine header.
const FRAMES: [&str; 5] = ["\n\tat ", "\n    at ", "\n\tfrom ", "\n  File \"", "\ngoroutine "];

/// Whether the line starts the way only a crash does.
pub fn starts_crash(line: &str) -> bool {
    line.starts_with(STARTS[0]) && line.len() > STARTS[0].len() || STARTS[1..].iter().any(|s| line.starts_with(s))
}

/// For a joined entry holding stack frames: its first line (to look for a level word in, as a
/// logger's header would carry one). `None` for a single line or one without frames.
pub fn trace_header(line: &str) -> Option<&str> {
    let nl = memchr::memchr(b'\n', line.as_bytes())?;
    let rest = &line[nl..];
    FRAMES.iter().any(|f| rest.contains(f)).then_some(&line[..nl])
}

/// Whether a trace's first line is the exception itself, as runtimes print it
/// (`java.lang.IllegalStateException: x`, `TypeError: x`, `app.rb:3:in 'f': x (RuntimeError)`),
/// rather than a logger's header: its words are the message's, not a level.
pub fn is_exception_line(header: &str) -> bool {
    let name = header.split([':', ' ']).next().unwrap_or("");
    let named = ["Error", "Exception", "Throwable"].iter().any(|s| name.ends_with(s));
    named || header.contains(":in ") && header.ends_with(')')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_and_frames() {
        assert!(starts_crash("panic: runtime error: index out of range [5] with length 3"));
        assert!(starts_crash("fatal error: all goroutines are asleep - deadlock!"));
        assert!(starts_crash("Traceback (most recent call last):\n  File \"x.py\", line 1"));
        assert!(starts_crash("Exception in thread \"main\" java.lang.IllegalStateException: x"));
        assert!(!starts_crash("panic: "));
        assert!(!starts_crash("no panic: here"));
        assert_eq!(trace_header("TypeError: x\n    at f (/app/a.js:1:2)"), Some("TypeError: x"));
        assert_eq!(
            trace_header("a.rb:3:in 'foo': m (RuntimeError)\n\tfrom a.rb:7:in '<main>'"),
            Some("a.rb:3:in 'foo': m (RuntimeError)")
        );
        assert_eq!(trace_header("one\ntwo"), None);
        assert!(is_exception_line("java.lang.IllegalStateException: x"));
        assert!(is_exception_line("TypeError: Cannot read properties of undefined (reading 'info')"));
        assert!(is_exception_line("Error: boom"));
        assert!(is_exception_line("app.rb:3:in 'foo': info (RuntimeError)"));
        assert!(!is_exception_line("2026-12-02 07:00:00 WARN  c.e.Retry - retrying"));
        assert_eq!(trace_header("just one line at x"), None);
    }
}
