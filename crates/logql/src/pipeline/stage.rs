//! A compiled pipeline stage: what each `Stage` of the syntax tree becomes, and running it on
//! one entry (the parsers and formatters it calls live in their own modules).

use std::borrow::Cow;

use super::formatters;
use super::label_filter::{LabelFilterC, compile_label_filter};
use super::labels::{ERROR_DETAILS_LABEL, ERROR_LABEL, LabelsBuilder, PRESERVE_ERROR_LABEL};
use super::line_filter::{LineFilterC, compile_line_filter};
use super::parsers::pattern::Pattern;
use super::parsers::regexp::RegexpParser;
use super::parsers::{json, json_scanner, logfmt, unpack, valid_label_name};
use crate::ast::{NamedMatcher, Stage};
use crate::error::ParseError;
use crate::template::Template;

#[derive(Debug, Clone)]
pub(crate) enum StageC {
    LineFilter(LineFilterC),
    /// `| json` with its reusable member buffer.
    Json(Vec<json::Member>),
    JsonExpr(Vec<(String, Vec<json_scanner::PathPart>)>),
    /// `| logfmt`, with the direct search of hinted keys.
    Logfmt {
        strict: bool,
        keep_empty: bool,
        hinted: logfmt::HintedKeys,
    },
    LogfmtExpr {
        strict: bool,
        keep_empty: bool,
        exprs: Vec<(String, String)>,
    },
    Regexp(RegexpParser),
    Pattern(Pattern),
    /// `| unpack` with its reusable member buffer.
    Unpack(Vec<unpack::Packed>),
    LabelFilter(LabelFilterC),
    LineFormat(Template),
    LabelFormat(Vec<(String, Result<Template, String>)>),
    Decolorize,
    Drop(Vec<NamedMatcher>),
    Keep(Vec<NamedMatcher>),
}

fn stage_err(s: &Stage, e: impl std::fmt::Display) -> ParseError {
    ParseError::new(format!("stage '{s}' : {e}"))
}

pub(crate) fn compile_stage(s: &Stage) -> Result<StageC, ParseError> {
    Ok(match s {
        Stage::LineFilter(lf) => StageC::LineFilter(compile_line_filter(lf).map_err(|e| stage_err(s, e))?),
        Stage::Json => StageC::Json(Vec::new()),
        Stage::JsonExpr(exprs) => {
            let mut out = Vec::new();
            for (id, e) in exprs {
                if !valid_label_name(id) {
                    return Err(stage_err(s, format!("invalid extracted label name '{id}'")));
                }
                out.push((id.clone(), json_scanner::parse_path(e).map_err(|e| stage_err(s, e))?));
            }
            StageC::JsonExpr(out)
        }
        Stage::Logfmt { strict, keep_empty } => {
            StageC::Logfmt { strict: *strict, keep_empty: *keep_empty, hinted: Default::default() }
        }
        Stage::LogfmtExpr { strict, keep_empty, exprs } => {
            for (id, path) in exprs {
                if !valid_label_name(id) {
                    return Err(stage_err(s, format!("invalid extracted label name '{id}'")));
                }
                if path.is_empty() || path.contains(|c: char| c.is_whitespace() || c == '=' || c == '"') {
                    return Err(stage_err(
                        s,
                        format!("cannot parse expression [{path}]: syntax error: unexpected KEY"),
                    ));
                }
            }
            StageC::LogfmtExpr { strict: *strict, keep_empty: *keep_empty, exprs: exprs.clone() }
        }
        Stage::Regexp(r) => StageC::Regexp(RegexpParser::new(r).map_err(|e| stage_err(s, e))?),
        Stage::Pattern(p) => StageC::Pattern(Pattern::parse(p).map_err(|e| stage_err(s, e))?),
        Stage::Unpack => StageC::Unpack(Vec::new()),
        Stage::LabelFilter(f) => StageC::LabelFilter(compile_label_filter(f).map_err(|e| stage_err(s, e))?),
        Stage::LineFormat(t) => StageC::LineFormat(
            Template::parse_named(t, "line").map_err(|e| stage_err(s, format!("invalid line template: {e}")))?,
        ),
        Stage::LabelFormat(fmts) => {
            let mut seen: Vec<&str> = Vec::new();
            let mut out = Vec::new();
            for f in fmts {
                if f.name == ERROR_LABEL {
                    return Err(stage_err(s, format!("{ERROR_LABEL} cannot be formatted")));
                }
                if seen.contains(&f.name.as_str()) {
                    return Err(stage_err(
                        s,
                        format!("multiple label name '{}' not allowed in a single format operation", f.name),
                    ));
                }
                seen.push(&f.name);
                if f.rename {
                    out.push((f.name.clone(), Err(f.value.clone())));
                } else {
                    let t = Template::parse_named(&f.value, "label")
                        .map_err(|e| stage_err(s, format!("invalid template for label '{}': {e}", f.name)))?;
                    out.push((f.name.clone(), Ok(t)));
                }
            }
            StageC::LabelFormat(out)
        }
        Stage::Decolorize => StageC::Decolorize,
        Stage::Drop(v) => StageC::Drop(v.clone()),
        Stage::Keep(v) => StageC::Keep(v.clone()),
    })
}

fn is_special(k: &str) -> bool {
    k == ERROR_LABEL || k == ERROR_DETAILS_LABEL || k == PRESERVE_ERROR_LABEL
}

impl StageC {
    /// [`Self::process`] with the stage's reusable buffers.
    pub(crate) fn process_mut(&mut self, ts: i64, line: &mut Cow<'_, str>, lbs: &mut LabelsBuilder) -> bool {
        match self {
            StageC::Regexp(r) => {
                r.process_mut(line, lbs);
                true
            }
            StageC::Json(members) => {
                json::process_json(lbs, line, members);
                true
            }
            StageC::Unpack(pairs) => {
                unpack::process_unpack(lbs, line, pairs);
                true
            }
            StageC::Logfmt { strict: false, keep_empty: false, hinted } => {
                if !logfmt::logfmt_hinted(lbs, line, hinted) {
                    logfmt::logfmt_process(lbs, line, false, false, None);
                }
                true
            }
            s => s.process(ts, line, lbs),
        }
    }

    /// Runs the stage; `false` drops the entry.
    pub(crate) fn process(&self, ts: i64, line: &mut Cow<'_, str>, lbs: &mut LabelsBuilder) -> bool {
        match self {
            StageC::LineFilter(f) => f.keep(line),
            StageC::Json(_) => {
                json::process_json(lbs, line, &mut Vec::new());
                true
            }
            StageC::JsonExpr(exprs) => {
                json::process_json_paths(lbs, line, exprs);
                true
            }
            StageC::Logfmt { strict, keep_empty, .. } => {
                logfmt::logfmt_process(lbs, line, *strict, *keep_empty, None);
                true
            }
            StageC::LogfmtExpr { strict, keep_empty, exprs } => {
                logfmt::logfmt_process(lbs, line, *strict, *keep_empty, Some(exprs));
                true
            }
            StageC::Regexp(r) => {
                r.process(line, lbs);
                true
            }
            StageC::Pattern(p) => {
                p.process(line, lbs);
                true
            }
            StageC::Unpack(_) => {
                unpack::process_unpack(lbs, line, &mut Vec::new());
                true
            }
            StageC::LabelFilter(f) => f.keep(lbs),
            StageC::LineFormat(t) => {
                formatters::line_format(t, ts, line, lbs);
                true
            }
            StageC::LabelFormat(fmts) => {
                formatters::label_format(fmts, ts, line, lbs);
                true
            }
            StageC::Decolorize => {
                formatters::decolorize_line(line);
                true
            }
            StageC::Drop(ms) => {
                for nm in ms {
                    match &nm.matcher {
                        None => match nm.name.as_str() {
                            ERROR_LABEL => lbs.err.clear(),
                            ERROR_DETAILS_LABEL => lbs.err_details.clear(),
                            n => lbs.del(n),
                        },
                        Some(m) => match m.name.as_str() {
                            ERROR_LABEL => {
                                if m.matches(&lbs.err) {
                                    lbs.err.clear();
                                }
                            }
                            ERROR_DETAILS_LABEL => {
                                if m.matches(&lbs.err_details) {
                                    lbs.err_details.clear();
                                }
                            }
                            n => {
                                if let Some(v) = lbs.get(n)
                                    && m.matches(v)
                                {
                                    lbs.del(n);
                                }
                            }
                        },
                    }
                }
                true
            }
            StageC::Keep(ms) => {
                for (k, v) in lbs.unsorted() {
                    if is_special(&k) {
                        continue;
                    }
                    let keep = ms.iter().any(|nm| match &nm.matcher {
                        Some(m) => m.name == k && m.matches(&v),
                        None => nm.name == k,
                    });
                    if !keep {
                        lbs.del(&k);
                    }
                }
                true
            }
        }
    }
}
