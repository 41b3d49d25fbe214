//! Formatters: `line_format`, `label_format` and `decolorize`.

use std::borrow::Cow;

use regex::Regex;

use super::labels::{ERR_TEMPLATE, LabelsBuilder};
use crate::template::{Ctx, Template};

/// Strips ANSI escape sequences with the pattern Loki uses (from the stripansi package).
fn decolorize(s: &str) -> String {
    static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        model::goregex::compile(
            "[\u{1b}\u{9b}][\\[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[a-zA-Z\\d]*)*)?\u{7})|(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PRZcf-ntqry=><~]))",
        )
        .expect("ANSI pattern")
    });
    re.replace_all(s, "").into_owned()
}

/// `| line_format "{{.a}}"`: the template's output becomes the line.
pub(crate) fn line_format(t: &Template, ts: i64, line: &mut Cow<'_, str>, lbs: &mut LabelsBuilder) {
    let m = lbs.map();
    match t.execute(&Ctx { labels: &m, line, ts }) {
        Ok(s) => *line = Cow::Owned(s),
        Err(e) => lbs.set_err(ERR_TEMPLATE, Some(&e)),
    }
}

/// `| label_format a="{{.b}}", c=d`: templates set labels, `c=d` renames `d` to `c`.
pub(crate) fn label_format(fmts: &[(String, Result<Template, String>)], ts: i64, line: &str, lbs: &mut LabelsBuilder) {
    let m = lbs.map();
    for (name, f) in fmts {
        match f {
            Err(src) => {
                if let Some(v) = lbs.get(src).map(str::to_string) {
                    lbs.set_parsed(name, &v);
                    lbs.del(src);
                }
            }
            Ok(t) => match t.execute(&Ctx { labels: &m, line, ts }) {
                Ok(v) => lbs.set_parsed(name, &v),
                Err(e) => lbs.set_err(ERR_TEMPLATE, Some(&e)),
            },
        }
    }
}

/// `| decolorize`: strips ANSI colour sequences from the line.
pub(crate) fn decolorize_line(line: &mut Cow<'_, str>) {
    if line.contains(['\u{1b}', '\u{9b}']) {
        *line = Cow::Owned(decolorize(line));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_ansi() {
        assert_eq!(super::decolorize("\u{1b}[31mhello\u{1b}[0m world"), "hello world");
        assert_eq!(super::decolorize("\u{1b}]0;title\u{7}x"), "x");
        assert_eq!(super::decolorize("plain"), "plain");
    }
}
