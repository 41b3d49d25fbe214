//! Java and Kotlin exceptions: `Exception in thread "main" java.lang.X: msg` (or a qualified
//! exception name first), then `\tat ...` frames, `Caused by: ...`, `\t... 5 more`, and
//! `\tSuppressed: ...` blocks. No blank lines inside.

use super::{Step, indented};

pub fn next(line: &str, blank: bool) -> Step {
    if !blank && (indented(line) || line.starts_with("Caused by: ")) { Step::Join } else { Step::End }
}
