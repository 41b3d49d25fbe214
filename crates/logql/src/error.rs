//! The error every stage of reading a query reports: lexing, parsing, validating and
//! compiling a pipeline. It prints the way Loki prints its `ParseError`.

/// A parse error, printed the way Loki prints its `ParseError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub msg: String,
    pub line: usize,
    pub col: usize,
}

impl ParseError {
    /// An error without position (`parse error : msg`).
    pub fn new(msg: impl Into<String>) -> Self {
        ParseError { msg: msg.into(), line: 0, col: 0 }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 && self.col == 0 {
            write!(f, "parse error : {}", self.msg)
        } else {
            write!(f, "parse error at line {}, col {}: {}", self.line, self.col, self.msg)
        }
    }
}

impl std::error::Error for ParseError {}
