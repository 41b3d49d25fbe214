//! Regular-expression helpers shared by the parser, the printer, the pipeline, the template
//! functions and the evaluator: Go's error wording, Loki's simplification of label-filter
//! regexes into string tests, and Go's `$1` replacement expansion.

mod simplify;

pub(crate) use gotemplate::go::{expand_go, regex_err};
pub(crate) use simplify::{SimpleFilter, simplify_label_regex};
