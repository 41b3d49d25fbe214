//! Parser and runner for Loki's `.logqltest` conformance scripts.

use std::collections::HashMap;

use model::{Direction, Entry, Labels};

use crate::eval::{Engine, Limits, LogSource, QueryParams, QueryResult};
use crate::lexer::parse_duration_lit;
use crate::pipeline::labels::sorted_labels;

/// One evaluation that did not give the expected result.
#[derive(Debug, Clone)]
pub struct ConformanceFailure {
    pub line: usize,
    pub query: String,
    pub reason: String,
}

/// The outcome of running a script.
#[derive(Debug, Clone, Default)]
pub struct ConformanceReport {
    pub passed: usize,
    pub failed: Vec<ConformanceFailure>,
    /// Script errors (malformed commands), counted as failures too.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone)]
enum Expect {
    Series { ordered: bool, series: Vec<(Labels, Vec<Option<f64>>)> },
    Scalar(f64),
    Empty,
    Fail { msg: Option<String>, regex: Option<String> },
}

#[derive(Debug, Clone)]
struct Eval {
    line: usize,
    query: String,
    instant: bool,
    start: i64,
    end: i64,
    step: i64,
    expect: Expect,
}

/// Strips a `#` comment outside quotes.
fn strip_comment(l: &str) -> &str {
    let mut q: Option<char> = None;
    for (i, c) in l.char_indices() {
        match q {
            Some(qc) => {
                if c == '\\' && qc == '"' {
                    continue;
                }
                if c == qc {
                    q = None;
                }
            }
            None => {
                if c == '"' || c == '`' {
                    q = Some(c);
                } else if c == '#' {
                    return &l[..i];
                }
            }
        }
    }
    l
}

fn dur(s: &str) -> Result<i64, String> {
    parse_duration_lit(s.trim()).map_err(|e| format!("bad duration {s:?}: {e}"))
}

/// Parses `{a="b", c=""}` keeping empty values; returns labels and the rest of the text.
fn parse_labels(s: &str, keep_empty: bool) -> Result<(Labels, &str), String> {
    let s = s.trim_start();
    if !s.starts_with('{') {
        return Err(format!("expected '{{' in {s:?}"));
    }
    let b = s.as_bytes();
    let mut i = 1;
    let mut pairs = Vec::new();
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            return Err("unterminated label set".into());
        }
        if b[i] == b'}' {
            i += 1;
            break;
        }
        let st = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        let name = s[st..i].to_string();
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            return Err(format!("expected '=' in {s:?}"));
        }
        i += 1;
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'"' {
            return Err(format!("expected '\"' in {s:?}"));
        }
        let vs = i;
        i += 1;
        while i < b.len() && b[i] != b'"' {
            if b[i] == b'\\' {
                i += 1;
            }
            i += 1;
        }
        let raw = &s[vs..(i + 1).min(s.len())];
        i += 1;
        let toks = crate::lexer::lex(raw).map_err(|e| e.msg)?;
        let v = match &toks[0].tok {
            crate::lexer::Tok::Str(v) => v.clone(),
            _ => return Err(format!("bad value {raw}")),
        };
        pairs.push((name, v));
    }
    let labels =
        if keep_empty { sorted_labels(pairs) } else { Labels::from_pairs(pairs).map_err(|e| e.to_string())? };
    Ok((labels, &s[i..]))
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "NaN" => Ok(f64::NAN),
        "Inf" | "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => crate::go::parse_go_float(s),
    }
}

fn expand_points(tokens: &[&str]) -> Result<Vec<Option<f64>>, String> {
    let mut out = Vec::new();
    for t in tokens {
        if *t == "_" {
            out.push(None);
            continue;
        }
        if let Some(xi) = t.rfind('x')
            && !t.starts_with("0x")
            && t[xi + 1..].bytes().all(|c| c.is_ascii_digit())
            && xi + 1 < t.len()
        {
            let n: usize = t[xi + 1..].parse().map_err(|_| format!("bad point {t}"))?;
            let body = &t[..xi];
            // base[+-]step; the sign is the last + or - not at position 0 / after 'e'
            let bb = body.as_bytes();
            let mut split = None;
            for j in (1..bb.len()).rev() {
                if (bb[j] == b'+' || bb[j] == b'-') && bb[j - 1] != b'e' && bb[j - 1] != b'E' {
                    split = Some(j);
                    break;
                }
            }
            let (base, step) = match split {
                Some(j) => (parse_value(&body[..j])?, parse_value(&body[j..])?),
                None => (parse_value(body)?, 0.0),
            };
            for k in 0..=n {
                out.push(Some(base + step * k as f64));
            }
            continue;
        }
        out.push(Some(parse_value(t)?));
    }
    Ok(out)
}

fn parse_load_line(l: &str) -> Result<(Labels, Vec<Entry>), String> {
    let (labels, rest) = parse_labels(l, false)?;
    let rest = rest.trim_start();
    let q = rest.chars().next().ok_or("missing line")?;
    if q != '"' && q != '`' {
        return Err(format!("expected quoted line in {l:?}"));
    }
    let end = rest[1..].find(q).ok_or("unterminated line")? + 1;
    let text = &rest[1..end];
    let mut rest = rest[end + 1..].trim_start();
    rest = rest.strip_prefix('@').ok_or("missing @")?.trim_start();
    let ts_end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    let start = dur(&rest[..ts_end])?;
    rest = rest[ts_end..].trim_start();
    let (mut every, mut count) = (0i64, 1usize);
    let mut metadata = Vec::new();
    while let Some(r) = rest.strip_prefix('[') {
        let close = r.find(']').ok_or("missing ]")?;
        let body = r[..close].trim();
        rest = r[close + 1..].trim_start();
        if let Some(rep) = body.strip_prefix("repeat every") {
            let parts: Vec<&str> = rep.split_whitespace().collect();
            if parts.len() != 3 || parts[1] != "for" {
                return Err(format!("bad repeat {body:?}"));
            }
            every = dur(parts[0])?;
            count = parts[2].parse().map_err(|_| "bad count")?;
        } else if let Some(md) = body.strip_prefix("metadata") {
            let mut s = md.trim();
            while !s.is_empty() {
                let (k, r2) = if let Some(r) = s.strip_prefix('"') {
                    let e = r.find('"').ok_or("bad metadata key")?;
                    (r[..e].to_string(), &r[e + 1..])
                } else {
                    let e = s.find('=').ok_or("bad metadata")?;
                    (s[..e].trim().to_string(), &s[e..])
                };
                let r2 = r2.trim_start().strip_prefix('=').ok_or("bad metadata")?.trim_start();
                let r2b = r2.strip_prefix('"').ok_or("bad metadata value")?;
                let mut j = 0;
                let bb = r2b.as_bytes();
                while j < bb.len() && bb[j] != b'"' {
                    if bb[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                let raw = format!("\"{}\"", &r2b[..j.min(r2b.len())]);
                let toks = crate::lexer::lex(&raw).map_err(|e| e.msg)?;
                let v = match &toks[0].tok {
                    crate::lexer::Tok::Str(v) => v.clone(),
                    _ => return Err("bad metadata value".into()),
                };
                metadata.push((k, v));
                s = r2b.get(j + 1..).unwrap_or("").trim_start();
            }
        } else {
            return Err(format!("unknown load option {body:?}"));
        }
    }
    let metadata = model::Metadata::new(metadata);
    let mut entries = Vec::new();
    for i in 0..count {
        entries.push(Entry {
            ts: start + every * i as i64,
            line: text.replace("{{.i}}", &i.to_string()),
            metadata: metadata.clone(),
        });
    }
    Ok((labels, entries))
}

fn parse_eval(line_no: usize, head: &str, body: &[&str]) -> Result<Eval, String> {
    let rest = head.strip_prefix("eval").unwrap().trim_start();
    let (instant, start, end, step, query) = if let Some(r) = rest.strip_prefix("instant at ") {
        let r = r.trim_start();
        let e = r.find(' ').ok_or("missing query")?;
        let t = dur(&r[..e])?;
        (true, t, t, 0, r[e + 1..].trim().to_string())
    } else if let Some(r) = rest.strip_prefix("range from ") {
        let parts: Vec<&str> = r.splitn(6, ' ').collect();
        if parts.len() < 6 || parts[1] != "to" || parts[3] != "step" {
            return Err(format!("bad range eval {head:?}"));
        }
        (false, dur(parts[0])?, dur(parts[2])?, dur(parts[4])?, parts[5].trim().to_string())
    } else {
        return Err(format!("bad eval {head:?}"));
    };
    let mut ordered = false;
    let mut series = Vec::new();
    let mut expect = None;
    for l in body {
        let l = l.trim();
        if l.is_empty() {
            continue;
        }
        if l == "expect empty" {
            expect = Some(Expect::Empty);
        } else if l == "expect ordered" {
            ordered = true;
        } else if let Some(f) = l.strip_prefix("expect fail") {
            let f = f.trim();
            let (msg, regex) = if let Some(m) = f.strip_prefix("msg:") {
                (Some(m.trim().to_string()), None)
            } else if let Some(r) = f.strip_prefix("regex:") {
                (None, Some(r.trim().to_string()))
            } else {
                (None, None)
            };
            expect = Some(Expect::Fail { msg, regex });
        } else if l.starts_with("skip ") {
            continue;
        } else if l.starts_with('{') {
            let (labels, rest) = parse_labels(l, true)?;
            let toks: Vec<&str> = rest.split_whitespace().collect();
            series.push((labels, expand_points(&toks)?));
        } else {
            expect = Some(Expect::Scalar(parse_value(l)?));
        }
    }
    let expect = match expect {
        Some(e) => e,
        None => Expect::Series { ordered, series },
    };
    Ok(Eval { line: line_no, query, instant, start, end, step, expect })
}

fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    diff <= 1e-6 * a.abs().max(b.abs()) || diff < 1e-9
}

fn fmt_pts(p: &[Option<f64>]) -> String {
    p.iter().map(|x| x.map(crate::go::format_float).unwrap_or_else(|| "_".into())).collect::<Vec<_>>().join(" ")
}

fn check(ev: &Eval, res: Result<QueryResult, String>) -> Result<(), String> {
    match (&ev.expect, res) {
        (Expect::Fail { msg, regex }, Err(e)) => {
            if let Some(m) = msg
                && !e.contains(m.as_str())
            {
                return Err(format!("error {e:?} does not contain {m:?}"));
            }
            if let Some(r) = regex {
                let re = regex::Regex::new(r).map_err(|e| e.to_string())?;
                if !re.is_match(&e) {
                    return Err(format!("error {e:?} does not match /{r}/"));
                }
            }
            Ok(())
        }
        (Expect::Fail { .. }, Ok(r)) => Err(format!("expected failure, got {r:?}")),
        (_, Err(e)) => Err(format!("unexpected error: {e}")),
        (Expect::Scalar(v), Ok(QueryResult::Scalar { v: got, .. })) => {
            if close(*v, got) {
                Ok(())
            } else {
                Err(format!("scalar: expected {v}, got {got}"))
            }
        }
        (Expect::Scalar(v), Ok(r)) => Err(format!("expected scalar {v}, got {r:?}")),
        (Expect::Empty, Ok(r)) => {
            let empty = match &r {
                QueryResult::Vector(v) => v.is_empty(),
                QueryResult::Matrix(m) => m.is_empty(),
                QueryResult::Streams(s) => s.is_empty(),
                QueryResult::Scalar { .. } => false,
            };
            if empty { Ok(()) } else { Err(format!("expected empty, got {r:?}")) }
        }
        (Expect::Series { ordered, series }, Ok(r)) => {
            let steps: Vec<i64> = if ev.instant {
                vec![ev.start]
            } else {
                let mut v = Vec::new();
                let mut t = ev.start;
                while t <= ev.end {
                    v.push(t);
                    t += ev.step;
                }
                v
            };
            let got: Vec<(Labels, Vec<Option<f64>>)> = match r {
                QueryResult::Vector(v) => v.into_iter().map(|s| (s.labels, vec![Some(s.v)])).collect(),
                QueryResult::Matrix(m) => m
                    .into_iter()
                    .map(|s| {
                        let map: HashMap<i64, f64> = s.points.iter().copied().collect();
                        (s.labels, steps.iter().map(|t| map.get(t).copied()).collect())
                    })
                    .collect(),
                QueryResult::Scalar { v, .. } => vec![(Labels::empty(), vec![Some(v)])],
                QueryResult::Streams(_) => return Err("got streams for a metric query".into()),
            };
            if got.len() != series.len() {
                let g: Vec<String> = got.iter().map(|(l, p)| format!("{l} {}", fmt_pts(p))).collect();
                return Err(format!("expected {} series, got {}: {}", series.len(), got.len(), g.join("; ")));
            }
            for (i, (el, ep)) in series.iter().enumerate() {
                let found =
                    if *ordered { got.get(i).filter(|(l, _)| l == el) } else { got.iter().find(|(l, _)| l == el) };
                let Some((_, gp)) = found else {
                    let g: Vec<String> = got.iter().map(|(l, p)| format!("{l} {}", fmt_pts(p))).collect();
                    return Err(format!("series {el} not found (ordered={ordered}); got {}", g.join("; ")));
                };
                let ok = ep.len() == gp.len()
                    && ep.iter().zip(gp).all(|(a, b)| match (a, b) {
                        (None, None) => true,
                        (Some(x), Some(y)) => close(*x, *y),
                        _ => false,
                    });
                if !ok {
                    return Err(format!("series {el}: expected [{}], got [{}]", fmt_pts(ep), fmt_pts(gp)));
                }
            }
            Ok(())
        }
    }
}

/// Builds a source from every loaded stream.
pub type ScriptLoader<'a> = dyn FnMut(Vec<(Labels, Vec<Entry>)>) -> Box<dyn LogSource> + 'a;

/// Runs a script. `load` receives every stream loaded since the last `clear` (cumulative) and
/// returns the source to query; it is called again whenever the loaded data changed.
pub fn run_conformance_script(text: &str, load: &mut ScriptLoader) -> ConformanceReport {
    let mut report = ConformanceReport::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut data: Vec<(Labels, Vec<Entry>)> = Vec::new();
    let mut source: Option<Box<dyn LogSource>> = None;
    let engine = Engine { limits: Limits { align_step: false, ..Limits::default() } };
    let mut i = 0;
    while i < lines.len() {
        let raw = strip_comment(lines[i]);
        let line_no = i + 1;
        i += 1;
        if raw.trim().is_empty() {
            continue;
        }
        if raw.starts_with(' ') || raw.starts_with('\t') {
            report.errors.push(format!("line {line_no}: unexpected indented line"));
            continue;
        }
        // block body
        let mut body = Vec::new();
        while i < lines.len() {
            if lines[i].trim_start().starts_with('#') && !lines[i].trim().is_empty() {
                i += 1;
                continue;
            }
            let l = strip_comment(lines[i]);
            if l.trim().is_empty() || !(l.starts_with(' ') || l.starts_with('\t')) {
                break;
            }
            body.push(l);
            i += 1;
        }
        let cmd = raw.trim();
        if cmd == "clear" {
            data.clear();
            source = None;
        } else if cmd == "load" {
            for l in body {
                match parse_load_line(l.trim()) {
                    Ok((labels, entries)) => match data.iter_mut().find(|(l2, _)| *l2 == labels) {
                        Some((_, v)) => v.extend(entries),
                        None => data.push((labels, entries)),
                    },
                    Err(e) => report.errors.push(format!("line {line_no}: {e}")),
                }
            }
            source = None;
        } else if cmd.starts_with("eval") {
            let ev = match parse_eval(line_no, cmd, &body) {
                Ok(e) => e,
                Err(e) => {
                    report.errors.push(format!("line {line_no}: {e}"));
                    continue;
                }
            };
            if source.is_none() {
                let mut d = data.clone();
                for (_, e) in &mut d {
                    e.sort_by_key(|x| x.ts);
                }
                source = Some(load(d));
            }
            let src = source.as_ref().unwrap();
            let q = QueryParams {
                query: ev.query.clone(),
                start: ev.start,
                end: ev.end,
                step: if ev.instant { 0 } else { ev.step },
                interval: 0,
                limit: 100,
                direction: Direction::Backward,
                instant: ev.instant,
                ..QueryParams::default()
            };
            let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                engine.query(src.as_ref(), &q).map(|o| o.result).map_err(|e| e.to_string())
            }));
            let res = match res {
                Ok(r) => r,
                Err(_) => {
                    report.failed.push(ConformanceFailure {
                        line: ev.line,
                        query: ev.query.clone(),
                        reason: "PANIC".into(),
                    });
                    continue;
                }
            };
            match check(&ev, res) {
                Ok(()) => report.passed += 1,
                Err(reason) => report.failed.push(ConformanceFailure { line: ev.line, query: ev.query, reason }),
            }
        } else {
            report.errors.push(format!("line {line_no}: unknown command {cmd:?}"));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points() {
        assert_eq!(expand_points(&["1+2x2"]).unwrap(), vec![Some(1.0), Some(3.0), Some(5.0)]);
        assert_eq!(expand_points(&["4x1", "_"]).unwrap(), vec![Some(4.0), Some(4.0), None]);
        assert_eq!(expand_points(&["1-1x2"]).unwrap(), vec![Some(1.0), Some(0.0), Some(-1.0)]);
        let (l, e) =
            parse_load_line(r#"{app="a"} "v={{.i}}" @ 20s [repeat every 20s for 3] [metadata md="m"]"#).unwrap();
        assert_eq!(l.to_string(), r#"{app="a"}"#);
        assert_eq!(e.len(), 3);
        assert_eq!(e[2].line, "v=2");
        assert_eq!(e[2].ts, 60_000_000_000);
        assert_eq!(e[0].metadata, vec![("md".to_string(), "m".to_string())]);
    }
}
