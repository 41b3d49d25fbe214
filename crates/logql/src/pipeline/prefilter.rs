//! Skipping a parser on lines its result would be dropped for: when a parser stage is followed
//! by `| name="value"`, the label can only equal the value if the value's text is in the line
//! (parsers take values from the line as written, except escapes, which are looked for, and
//! invalid text replaced by spaces, which a value without spaces cannot come from). A line
//! without it is dropped before the parser runs, with the same outcome as after it.

use memchr::memmem::Finder;
use model::MatchOp;

use super::label_filter::LabelFilterC;
use super::labels::LabelsBuilder;
use super::stage::StageC;

/// The test run before one parser stage.
#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    /// The label the following filter compares.
    name: String,
    /// A searcher for the value it must equal.
    value: Finder<'static>,
}

impl Prefilter {
    /// The prefilter of each stage (`None` for most).
    pub(crate) fn for_stages(stages: &[StageC]) -> Vec<Option<Prefilter>> {
        (0..stages.len())
            .map(|i| {
                if !is_parser(&stages[i]) {
                    return None;
                }
                let StageC::LabelFilter(f) = stages.get(i + 1)? else { return None };
                let (name, value) = required_equal(f)?;
                Some(Prefilter { name: name.to_string(), value: Finder::new(value.as_bytes()).into_owned() })
            })
            .collect()
    }

    /// False when the parser and the filter after it would drop the entry: the label is not
    /// set yet (so only the parser could set it), the line has no escape and lacks the value.
    pub(crate) fn may_keep(&self, line: &str, lbs: &LabelsBuilder) -> bool {
        let b = line.as_bytes();
        self.value.find(b).is_some() || memchr::memchr(b'\\', b).is_some() || lbs.get(&self.name).is_some()
    }
}

fn is_parser(s: &StageC) -> bool {
    matches!(
        s,
        StageC::Json(_)
            | StageC::JsonExpr(_)
            | StageC::Logfmt { .. }
            | StageC::LogfmtExpr { .. }
            | StageC::Regexp(_)
            | StageC::Pattern(_)
            | StageC::Unpack(_)
    )
}

/// A `name="value"` every entry the filter keeps must satisfy: the filter itself or a side of
/// an `and`. Values with spaces (which a replaced invalid byte could give) and the error
/// labels (not set from the line) are left out.
fn required_equal(f: &LabelFilterC) -> Option<(&str, &str)> {
    match f {
        LabelFilterC::Matcher(m)
            if m.op == MatchOp::Eq
                && !m.value.is_empty()
                && !m.value.contains(|c: char| c.is_whitespace())
                && !m.name.starts_with("__") =>
        {
            Some((&m.name, &m.value))
        }
        LabelFilterC::And(a, b) => required_equal(a).or_else(|| required_equal(b)),
        _ => None,
    }
}
