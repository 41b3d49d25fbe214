//! Go's crash output: `panic: ...` or `fatal error: ...`, maybe `[signal ...]`, a blank line,
//! then goroutine dumps (`goroutine 1 [running]:`, unindented function lines, tab-indented file
//! lines, `created by ...`, a blank line between goroutines), and `exit status 2` from `go run`.

use super::{Step, indented};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The panic message, before the first goroutine.
    Header,
    /// Inside the goroutine dumps.
    Dump,
}

pub fn start(line: &str) -> Option<Phase> {
    let msg = line.strip_prefix("panic: ").or_else(|| line.strip_prefix("fatal error: "))?;
    (!msg.is_empty()).then_some(Phase::Header)
}

pub fn next(p: &mut Phase, line: &str, blank: bool, after_blank: bool) -> Step {
    if blank {
        return Step::Hold;
    }
    if line.starts_with("exit status ") {
        return Step::Last;
    }
    let dump = line.starts_with("goroutine ") && line.ends_with(':') || line == "runtime stack:";
    match p {
        Phase::Header if after_blank => {
            if dump {
                *p = Phase::Dump;
                return Step::Join;
            }
            Step::End
        }
        // `[signal SIGSEGV...]`, a re-panic's `\tpanic: ...`, `panic: x [recovered]`.
        Phase::Header => {
            if line.starts_with("[signal ") || indented(line) || line.starts_with("panic: ") {
                Step::Join
            } else {
                Step::End
            }
        }
        Phase::Dump if after_blank => {
            if dump {
                Step::Join
            } else {
                Step::End
            }
        }
        Phase::Dump => {
            let frame =
                indented(line) || dump || line.starts_with("created by ") || line.starts_with("...") || func_line(line);
            if frame { Step::Join } else { Step::End }
        }
    }
}

/// A function line of a dump: `main.main()`, `main.(*store).get(...)`, `net/http.(*conn).serve(0xc0)`,
/// `panic({0x45e3a0, 0xc00001c030})`.
fn func_line(line: &str) -> bool {
    let Some(open) = line.find('(') else { return false };
    let name = &line[..open];
    line.ends_with(')') && !name.is_empty() && !name.contains(' ') && (name.contains('.') || name == "panic")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_lines() {
        assert!(func_line("main.main()"));
        assert!(func_line("main.(*store).get(...)"));
        assert!(func_line("net/http.(*conn).serve(0xc000128000, {0x6c7a58, 0xc0000a2000})"));
        assert!(func_line("panic({0x45e3a0, 0xc00001c030})"));
        assert!(!func_line("2026/12/02 07:00:00 listening (pid 1)"));
        assert!(!func_line("served (200)"));
    }
}
