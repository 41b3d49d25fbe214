//! Log pipelines with Loki's semantics, in the spirit of Loki's `pkg/logql/log`: the labels
//! builder (`labels`: stream, structured metadata and parsed labels, error labels), line
//! filters, label filters, parsers (`json`, `logfmt`, `regexp`, `pattern`, `unpack`),
//! formatters (`line_format`, `label_format`, `decolorize`), prefilters (a parser skipped on
//! lines a following `| name="value"` would drop) and the compiled pipeline here.

mod formatters;
mod ip;
mod label_filter;
pub(crate) mod labels;
mod line_filter;
mod noops;
pub(crate) mod parsers;
mod prefilter;
mod regex_literals;
mod stage;

pub(crate) use noops::without_noops;

use std::borrow::Cow;

use model::{Entry, Labels};

use crate::ast::{LineFilter, LineFilterOp, Stage};
use crate::error::ParseError;
pub(crate) use labels::LabelsBuilder;
pub use labels::LogEntryOut;
pub use parsers::logfmt::logfmt_pairs;
use prefilter::Prefilter;
use stage::{StageC, compile_stage};

/// Loki hoists line filters in front of every stage except label filters, `line_format` and
/// `unpack`.
fn reorder(stages: &[Stage]) -> Vec<Stage> {
    let mut out: Vec<Stage> = Vec::with_capacity(stages.len());
    for s in stages {
        if let Stage::LineFilter(_) = s {
            let pos = out
                .iter()
                .rposition(|x| {
                    matches!(x, Stage::LineFilter(_) | Stage::LabelFilter(_) | Stage::LineFormat(_) | Stage::Unpack)
                })
                .map(|p| p + 1)
                .unwrap_or(0);
            out.insert(pos, s.clone());
        } else {
            out.push(s.clone());
        }
    }
    out
}

/// A compiled log pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    hints: Option<labels::Hints>,
    stages: Vec<StageC>,
    /// Per stage, the line test that may skip it (see `prefilter`).
    prefilters: Vec<Option<Prefilter>>,
    builder: LabelsBuilder,
    builder_for: Option<Labels>,
}

impl Pipeline {
    pub fn new(stages: &[Stage]) -> Result<Pipeline, ParseError> {
        let stages = reorder(stages).iter().map(compile_stage).collect::<Result<Vec<_>, _>>()?;
        let prefilters = Prefilter::for_stages(&stages);
        Ok(Pipeline { hints: None, stages, prefilters, builder: LabelsBuilder::default(), builder_for: None })
    }

    /// The same pipeline without its prefilters (tests compare both).
    #[cfg(test)]
    fn without_prefilters(mut self) -> Self {
        self.prefilters.iter_mut().for_each(|p| *p = None);
        self
    }

    /// Restricts parsers to the given label names (Loki's parser hints).
    pub fn with_hints(mut self, hints: Option<Vec<String>>) -> Self {
        self.hints = hints.map(|h| labels::Hints::new(std::sync::Arc::new(h)));
        self.builder_for = None;
        self
    }

    pub fn is_noop(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs stages; leaves the final state in the builder. Returns the line when kept.
    pub fn run<'e>(&mut self, stream: &Labels, entry: &'e Entry) -> Option<Cow<'e, str>> {
        self.enter_stream(stream);
        self.run_entry(entry)
    }

    /// Makes `stream` the one [`Self::run_entry`] runs entries of.
    pub(crate) fn enter_stream(&mut self, stream: &Labels) {
        if !self.builder_for.as_ref().is_some_and(|b| same_labels(b, stream)) {
            self.builder = LabelsBuilder::new(stream);
            self.builder.hints = self.hints.clone();
            self.builder_for = Some(stream.clone());
        }
    }

    /// [`Self::run`] for an entry of the stream last entered (with [`Self::enter_stream`] or
    /// `run`), without comparing its labels again.
    pub(crate) fn run_entry<'e>(&mut self, entry: &'e Entry) -> Option<Cow<'e, str>> {
        self.builder.reset();
        self.builder.add_metadata(&entry.metadata);
        let mut line = Cow::Borrowed(entry.line.as_str());
        for (s, pf) in self.stages.iter_mut().zip(&self.prefilters) {
            if let Some(pf) = pf
                && !pf.may_keep(&line, &self.builder)
            {
                return None;
            }
            if !s.process_mut(entry.ts, &mut line, &mut self.builder) {
                return None;
            }
        }
        Some(line)
    }

    /// Runs the stages against an existing builder state (unwrap post-filters).
    pub fn run_on_builder(&self, b: &mut LabelsBuilder) -> bool {
        let mut line = Cow::Borrowed("");
        self.stages.iter().all(|s| s.process(0, &mut line, b))
    }

    pub fn builder(&self) -> &LabelsBuilder {
        &self.builder
    }

    pub fn builder_mut(&mut self) -> &mut LabelsBuilder {
        &mut self.builder
    }

    /// Processes one entry of a stream (also used by live tail).
    pub fn process(&mut self, stream: &Labels, entry: &Entry) -> Option<LogEntryOut> {
        let line = self.run(stream, entry)?.into_owned();
        let r = self.builder.result();
        Some(LogEntryOut {
            ts: entry.ts,
            line,
            labels: r.all,
            stream: r.stream,
            metadata: r.metadata,
            parsed: r.parsed,
        })
    }
}

/// Label set equality without a `memcmp` call per short name or value.
fn same_labels(a: &Labels, b: &Labels) -> bool {
    let (a, b) = (a.as_slice(), b.as_slice());
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| labels::same(&x.0, &y.0) && labels::same(&x.1, &y.1))
}

/// Case-sensitive substrings every kept line contains: the positive `|=` filters at the head of
/// the pipeline (before any stage that changes the line).
/// Whether every stage is a plain `|= "text"` filter: then the store's required substrings
/// (see [`required_substrings`]) decide alone which entries pass, and a count needs no line.
pub(crate) fn only_required_substrings(stages: &[Stage]) -> bool {
    !stages.is_empty()
        && stages.iter().all(|s| {
            matches!(s, Stage::LineFilter(lf) if lf.op == LineFilterOp::Contains
                && lf.args.len() == 1
                && !lf.args[0].ip
                && !lf.args[0].value.is_empty())
        })
}

/// When the stages are all line filters (`|=`, `!=`, `|~`, `!~`, `|>`, `!>`, `ip(...)`), them as
/// one test of a line's text, for a source to apply while it reads (no entry is made for a line
/// they drop, and the rest of the pipeline has nothing left to do but make the labels).
pub(crate) fn line_filters_predicate(stages: &[Stage]) -> Option<model::LinePredicate> {
    if stages.is_empty() {
        return None;
    }
    let mut filters = Vec::with_capacity(stages.len());
    for s in stages {
        let Stage::LineFilter(lf) = s else { return None };
        filters.push(line_filter::compile_line_filter(lf).ok()?);
    }
    let search = filters.iter().find_map(|f| f.search());
    let p = model::LinePredicate::new(move |line: &str| filters.iter().all(|f| f.keep(line)));
    Some(match search {
        Some(s) => p.with_search(s),
        None => p,
    })
}

pub(crate) fn required_substrings(stages: &[Stage]) -> Vec<String> {
    let mut out = Vec::new();
    for s in reorder(stages) {
        match s {
            Stage::LineFilter(lf) => {
                if is_substring(&lf) {
                    out.push(lf.args[0].value.clone());
                }
                // A regex's literal part: every matching line contains it.
                if lf.op == LineFilterOp::Match
                    && lf.args.len() == 1
                    && !lf.args[0].ip
                    && let Some(l) = regex_literals::required_literal(&lf.args[0].value, 3)
                {
                    out.push(l);
                }
            }
            _ => break,
        }
    }
    out
}

/// ASCII text every kept line holds in some case of its letters: the positive `|~ "(?i)text"`
/// filters at the head of the pipeline whose text folds only among ASCII letters, and the
/// longest such literal of a head `|~ "(?i)regex"`.
pub(crate) fn required_any_case(stages: &[Stage]) -> Vec<String> {
    let mut out = Vec::new();
    for s in reorder(stages) {
        let Stage::LineFilter(lf) = s else { break };
        if lf.op == LineFilterOp::Match
            && lf.args.len() == 1
            && !lf.args[0].ip
            && let Some(text) = line_filter::any_case_literal(&lf.args[0].value)
                .map(str::to_string)
                .or_else(|| regex_literals::required_any_case_literal(&lf.args[0].value, 3))
        {
            out.push(text);
        }
    }
    out
}

/// Whether a line filter keeps exactly the lines that hold its one text (`|= "error"`).
fn is_substring(lf: &LineFilter) -> bool {
    lf.op == LineFilterOp::Contains && lf.args.len() == 1 && !lf.args[0].ip && !lf.args[0].value.is_empty()
}

/// Whether the pipeline keeps every entry a source returns when asked for its
/// [`required_substrings`]: its line filters are all that substrings and come first, and it
/// has no label filter (parsers and formats change entries, never drop them).
pub(crate) fn keeps_every_entry_found(stages: &[Stage]) -> bool {
    let mut first = true;
    for s in reorder(stages) {
        match &s {
            Stage::LineFilter(lf) if first && is_substring(lf) => {}
            Stage::LineFilter(_) | Stage::LabelFilter(_) => return false,
            _ => first = false,
        }
    }
    true
}

#[cfg(test)]
mod hints_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn run(q: &str, stream: &[(&str, &str)], line: &str, md: &[(&str, &str)]) -> Option<LogEntryOut> {
        let e = parse(q).unwrap();
        let crate::ast::Expr::Log(l) = e else { panic!() };
        let mut p = Pipeline::new(&l.stages).unwrap();
        let s = Labels::from_pairs(stream.iter().copied()).unwrap();
        let entry = Entry {
            ts: 1,
            line: line.into(),
            metadata: md.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        p.process(&s, &entry)
    }

    #[test]
    fn required_substrings_are_pushed_down() {
        let e = parse(r#"{app="a"} |= "foo" |~ "bar" | json |= "baz" | line_format "x" |= "qux""#).unwrap();
        let crate::ast::Expr::Log(l) = e else { panic!() };
        assert_eq!(required_substrings(&l.stages), vec!["foo".to_string(), "bar".to_string(), "baz".to_string()]);
    }

    #[test]
    fn any_case_literals_are_pushed_down() {
        let any_case = |q: &str| {
            let crate::ast::Expr::Log(l) = parse(q).unwrap() else { panic!() };
            required_any_case(&l.stages)
        };
        assert_eq!(
            any_case(r#"{app="a"} |~ "(?i)Exception" != "x" | json |~ "(?i)time out" | line_format "x" |~ "(?i)qux""#),
            vec!["Exception".to_string(), "time out".to_string()]
        );
        assert!(any_case(r#"{app="a"} !~ "(?i)exception""#).is_empty(), "negated");
        assert!(any_case(r#"{app="a"} |~ "(?i)disk""#).is_empty(), "k folds with the Kelvin sign");
        assert!(any_case(r#"{app="a"} |~ "(?i)a.b" or "(?i)c""#).is_empty(), "alternatives");
        assert_eq!(any_case(r#"{app="a"} |~ "(?i)null\\.pointer.*at line""#), vec!["null.pointer".to_string()]);
    }

    #[test]
    fn pipelines_that_keep_every_entry_found() {
        let keeps = |q: &str| {
            let crate::ast::Expr::Log(l) = parse(q).unwrap() else { panic!() };
            keeps_every_entry_found(&l.stages)
        };
        assert!(keeps(r#"{app="a"}"#));
        assert!(keeps(r#"{app="a"} |= "foo" |= "bar" | json | line_format "{{.x}}""#));
        assert!(!keeps(r#"{app="a"} |~ "bar""#), "a regex is only prefiltered");
        assert!(!keeps(r#"{app="a"} != "bar""#));
        assert!(!keeps(r#"{app="a"} | json | level="error""#));
        assert!(!keeps(r#"{app="a"} | line_format "x" |= "x""#), "a filter on a formatted line");
    }

    #[test]
    fn json_and_logfmt() {
        let o = run(r#"{a="b"} | json"#, &[("a", "b")], r#"{"x":{"y":1},"arr":[1],"n":null,"a":"p"}"#, &[]).unwrap();
        assert_eq!(o.labels.to_string(), r#"{a="b", a_extracted="p", x_y="1"}"#);
        let o =
            run(r#"{a="b"} | logfmt"#, &[("a", "b")], "a-b=1 9x=2 dup=first dup=second msg=\"hi there\" empty=", &[])
                .unwrap();
        assert_eq!(o.labels.to_string(), r#"{_9x="2", a="b", a_b="1", dup="first", msg="hi there"}"#);
        let o = run(r#"{a="b"} | logfmt --strict"#, &[("a", "b")], "good=1 bad=\"x", &[]).unwrap();
        assert_eq!(o.labels.get("__error__"), Some("LogfmtParserErr"));
        let o = run(r#"{a="b"} | json"#, &[("a", "b")], "broken", &[]).unwrap();
        assert_eq!(o.labels.get("__error__"), Some("JSONParserErr"));
    }

    #[test]
    fn precedence_of_categories() {
        let o = run(
            r#"{app="a"} | logfmt"#,
            &[("app", "a"), ("sl", "s"), ("sm", "s"), ("tri", "s")],
            "sl=p md=p tri=p",
            &[("md", "m"), ("sm", "m"), ("tri", "m")],
        )
        .unwrap();
        assert_eq!(
            o.labels.to_string(),
            r#"{app="a", md="m", md_extracted="p", sl="s", sl_extracted="p", sm="s", sm_extracted="m", tri="s", tri_extracted="p"}"#
        );
    }

    #[test]
    fn filters_and_formats() {
        assert!(run(r#"{a="b"} |= "x" != "y""#, &[("a", "b")], "axb", &[]).is_some());
        assert!(run(r#"{a="b"} |= "x" != "y""#, &[("a", "b")], "axy", &[]).is_none());
        assert!(run(r#"{a="b"} |~ "(?i)X""#, &[("a", "b")], "axb", &[]).is_some());
        let o = run(r#"{a="b"} | logfmt | took > 1s"#, &[("a", "b")], "took=5", &[]).unwrap();
        assert_eq!(o.labels.get("__error__"), Some("LabelFilterErr"));
        let o = run(r#"{a="b"} | line_format "L={{.a}}""#, &[("a", "b")], "x", &[]).unwrap();
        assert_eq!(o.line, "L=b");
        let o = run(r#"{a="b", m="get"} | label_format verb=m"#, &[("a", "b"), ("m", "get")], "x", &[]).unwrap();
        assert_eq!(o.labels.to_string(), r#"{a="b", verb="get"}"#);
        let o = run(r#"{a="b"} | keep c"#, &[("a", "b"), ("c", "d")], "x", &[]).unwrap();
        assert_eq!(o.labels.to_string(), r#"{c="d"}"#);
        let o = run(r#"{a="b"} | unpack"#, &[("a", "b")], r#"{"l":"i","_entry":"msg"}"#, &[]).unwrap();
        assert_eq!(o.line, "msg");
        assert_eq!(o.parsed, vec![("l".to_string(), "i".to_string())]);
    }
}

#[cfg(test)]
mod reorder_tests {
    use crate::ast::Expr;

    fn reordered(q: &str) -> String {
        let Expr::Log(l) = crate::parser::parse(q).unwrap() else { panic!() };
        super::reorder(&l.stages).iter().map(|s| s.to_string()).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn line_filters_move_forward() {
        assert_eq!(
            reordered(
                r#"{c="app"} |= "foo" |= "next" | logfmt |="bar" |="baz" | line_format "{{.foo}}" |="1" |="2" | logfmt |="3""#
            ),
            r#"|= "foo" |= "next" |= "bar" |= "baz" | logfmt | line_format "{{.foo}}" |= "1" |= "2" |= "3" | logfmt"#
        );
        assert_eq!(
            reordered(r#"{c="app"} |= "06497595" | unpack != "message" | json | line_format "new log: {{.foo}}""#),
            r#"|= "06497595" | unpack != "message" | json | line_format "new log: {{.foo}}""#
        );
        assert_eq!(
            reordered(
                r#"{c="app"} | bar="next" |= "foo" | logfmt |="bar" |="baz" | line_format "{{.foo}}" |="1" |="2" | logfmt |="3""#
            ),
            r#"| bar="next" |= "foo" |= "bar" |= "baz" | logfmt | line_format "{{.foo}}" |= "1" |= "2" |= "3" | logfmt"#
        );
        assert_eq!(reordered(r#"{c="app"} | decolorize |= "x""#), r#"|= "x" | decolorize"#);
    }
}
