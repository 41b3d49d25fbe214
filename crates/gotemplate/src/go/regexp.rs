//! Regex compilation errors worded as Go's `regexp` package words them.

/// Go's `regexp` error text for `pattern`, which the `regex` crate refused with `e`.
pub fn regex_err(pattern: &str, e: &regex::Error) -> String {
    go_regex_error(pattern, e)
}

/// Compiles a Go-syntax pattern (unanchored), with Go's error text.
pub fn compile(pattern: &str) -> Result<regex::Regex, String> {
    model::goregex::compile(pattern).map_err(|e| regex_err(pattern, &e))
}

/// Go's `regexp` error text ("error parsing regexp: CODE: \`FRAGMENT\`") for a pattern the
/// `regex` crate refused; falls back to the crate's own message.
fn go_regex_error(pattern: &str, fallback: &regex::Error) -> String {
    use regex_syntax::ast::ErrorKind as K;
    let Err(e) = regex_syntax::ast::parse::Parser::new().parse(pattern) else {
        let s = fallback.to_string();
        let last = s.lines().rev().find(|l| l.starts_with("error:")).map(|l| l.trim_start_matches("error: "));
        return format!("error parsing regexp: {}", last.unwrap_or(&s));
    };
    let sp = e.span();
    let frag = pattern.get(sp.start.offset..sp.end.offset).unwrap_or("");
    let from = pattern.get(sp.start.offset..).unwrap_or("");
    let (code, text) = match e.kind() {
        K::ClassUnclosed => ("missing closing ]", from.to_string()),
        K::ClassRangeInvalid | K::ClassRangeLiteral => ("invalid character class range", frag.to_string()),
        K::ClassEscapeInvalid
        | K::EscapeUnrecognized
        | K::EscapeHexInvalid
        | K::EscapeHexInvalidDigit
        | K::EscapeHexEmpty => ("invalid escape sequence", frag.to_string()),
        K::EscapeUnexpectedEof => ("trailing backslash at end of expression", String::new()),
        K::GroupUnclosed => ("missing closing )", pattern.to_string()),
        K::GroupUnopened => ("unexpected )", pattern.to_string()),
        K::GroupNameEmpty | K::GroupNameInvalid | K::GroupNameUnexpectedEof | K::GroupNameDuplicate { .. } => {
            ("invalid named capture", frag.to_string())
        }
        K::RepetitionMissing => ("missing argument to repetition operator", frag.to_string()),
        K::RepetitionCountInvalid | K::RepetitionCountUnclosed | K::RepetitionCountDecimalEmpty | K::DecimalInvalid => {
            ("invalid repeat count", frag.to_string())
        }
        K::NestLimitExceeded(_) => ("expression nests too deeply", pattern.to_string()),
        K::UnsupportedBackreference | K::UnsupportedLookAround | K::FlagUnrecognized | K::FlagUnexpectedEof => {
            ("invalid or unsupported Perl syntax", frag.to_string())
        }
        _ => return format!("error parsing regexp: {e}"),
    };
    format!("error parsing regexp: {code}: `{text}`")
}
