//! Docker's json-file format: decoding its lines, joining the 16 KiB pieces Docker splits long
//! lines into, and merging multiline entries (stack traces) per stream. Pure logic, no I/O.
//! Without a `firstline` regex, the runtimes' traces are recognised by `crate::multiline`.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use regex::Regex;
use serde::Deserialize;

use crate::config::MultilineConfig;
use crate::multiline::{Step, Trace, continues_plain};

#[derive(Deserialize)]
struct RawLine<'a> {
    #[serde(borrow, default)]
    log: Cow<'a, str>,
    #[serde(borrow, default)]
    stream: Cow<'a, str>,
    #[serde(borrow)]
    time: Cow<'a, str>,
}

/// One decoded json-file line.
pub struct Line<'a> {
    pub log: Cow<'a, str>,
    pub stderr: bool,
    pub ts: i64,
}

/// Decodes one line of a json-file (without its `\n`).
pub fn parse_line(b: &[u8]) -> Result<Line<'_>, String> {
    let r: RawLine = serde_json::from_slice(b).map_err(|e| format!("bad json-file line: {e}"))?;
    let ts = parse_time(&r.time).ok_or_else(|| format!("bad json-file time {:?}", r.time))?;
    Ok(Line { log: r.log, stderr: r.stream == "stderr", ts })
}

/// RFC3339Nano as Docker writes it (UTC, 0 to 9 fraction digits), fast path first.
pub fn parse_time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() >= 20 && b[4] == b'-' && b[10] == b'T' && *b.last()? == b'Z' {
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let mut v = 0i64;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + (c - b'0') as i64;
            }
            Some(v)
        };
        let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
        let mut nanos = 0i64;
        if b[19] == b'.' {
            let frac = &b[20..b.len() - 1];
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            nanos = num(20..b.len() - 1)? * 10i64.pow(9 - frac.len() as u32);
        } else if b.len() != 20 {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        return Some(((days * 86400 + h * 3600 + mi * 60 + se) * 1_000_000_000) + nanos);
    }
    s.parse::<jiff::Timestamp>().ok().map(|t| t.as_nanosecond() as i64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// A finished entry with the byte range of the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Assembled {
    pub stderr: bool,
    pub ts: i64,
    pub line: String,
    pub start: u64,
    pub end: u64,
}

#[derive(Debug)]
struct Pending {
    ts: i64,
    text: String,
    start: u64,
    end: u64,
    lines: usize,
    touched: Instant,
    /// The trace this entry is, if its first line started one.
    trace: Option<Trace>,
    /// Blank lines after it that belong to it only if a line that joins follows.
    held: Vec<Held>,
}

/// A blank (or white space only) line held back: its time, bytes and text.
#[derive(Debug)]
struct Held {
    ts: i64,
    start: u64,
    end: u64,
    text: String,
}

impl Pending {
    fn new(ts: i64, text: String, start: u64, end: u64, trace: Option<Trace>) -> Pending {
        Pending { ts, text, start, end, lines: 1, touched: Instant::now(), trace, held: Vec::new() }
    }

    /// The entry, then each held blank line as an entry of its own.
    fn finish(self, s: usize, out: &mut Vec<Assembled>) {
        let stderr = s == 1;
        out.push(Assembled { stderr, ts: self.ts, line: self.text, start: self.start, end: self.end });
        for h in self.held {
            out.push(Assembled { stderr, ts: h.ts, line: h.text, start: h.start, end: h.end });
        }
    }
}

/// Blank lines held at most inside a trace (Go, Python and Node print one between parts).
const MAX_HELD: usize = 2;

/// Joins Docker's partial lines and multiline entries, per stream.
pub struct Assembler {
    partial: [Option<Pending>; 2],
    multi: [Option<Pending>; 2],
    firstline: Option<Regex>,
    multiline: bool,
    max_wait: Duration,
    max_lines: usize,
    max_bytes: usize,
}

impl Assembler {
    pub fn new(cfg: &MultilineConfig, max_bytes: usize) -> Result<Assembler, String> {
        let firstline = match &cfg.firstline {
            Some(r) => Some(model::goregex::compile(r).map_err(|e| format!("multiline.firstline: {e}"))?),
            None => None,
        };
        Ok(Assembler {
            partial: [None, None],
            multi: [None, None],
            firstline,
            multiline: cfg.enabled,
            max_wait: cfg.max_wait.0,
            max_lines: cfg.max_lines,
            max_bytes,
        })
    }

    /// Feeds one json-file line spanning bytes `[start, end)`; finished entries go to `out`.
    pub fn push(&mut self, l: Line, start: u64, end: u64, out: &mut Vec<Assembled>) {
        let s = l.stderr as usize;
        let complete = l.log.ends_with('\n');
        let text: &str = l.log.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&l.log);
        let (ts, joined, jstart) = match self.partial[s].take() {
            Some(mut p) => {
                if p.text.len() < self.max_bytes {
                    let room = self.max_bytes - p.text.len();
                    let mut cut = room.min(text.len());
                    while !text.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    p.text.push_str(&text[..cut]);
                }
                (p.ts, p.text, p.start)
            }
            None => (l.ts, text.to_string(), start),
        };
        if !complete {
            self.partial[s] = Some(Pending::new(ts, joined, jstart, end, None));
            return;
        }
        self.line(s, ts, joined, jstart, end, out);
    }

    fn line(&mut self, s: usize, ts: i64, text: String, start: u64, end: u64, out: &mut Vec<Assembled>) {
        if !self.multiline {
            out.push(Assembled { stderr: s == 1, ts, line: text, start, end });
            return;
        }
        if let Some(p) = self.multi[s].as_mut() {
            let held_bytes: usize = p.held.iter().map(|h| h.text.len() + 1).sum();
            let fits =
                p.lines + p.held.len() < self.max_lines && p.text.len() + held_bytes + text.len() < self.max_bytes;
            let step = if !fits {
                Step::End
            } else if let Some(r) = &self.firstline {
                if r.is_match(&text) { Step::End } else { Step::Join }
            } else if let Some(t) = p.trace.as_mut() {
                match t.next(&text, !p.held.is_empty()) {
                    Step::Hold if p.held.len() >= MAX_HELD => Step::End,
                    step => step,
                }
            } else if continues_plain(&text) {
                Step::Join
            } else {
                Step::End
            };
            match step {
                Step::Hold => {
                    p.held.push(Held { ts, start, end, text });
                    p.touched = Instant::now();
                    return;
                }
                Step::Join | Step::Last => {
                    for h in p.held.drain(..) {
                        p.text.push('\n');
                        p.text.push_str(&h.text);
                        p.lines += 1;
                    }
                    p.text.push('\n');
                    p.text.push_str(&text);
                    p.end = end;
                    p.lines += 1;
                    p.touched = Instant::now();
                    if step == Step::Last {
                        self.multi[s].take().unwrap().finish(s, out);
                    }
                    return;
                }
                Step::End => {}
            }
        }
        if let Some(p) = self.multi[s].take() {
            p.finish(s, out);
        }
        let trace = if self.firstline.is_none() { Trace::start(&text) } else { None };
        self.multi[s] = Some(Pending::new(ts, text, start, end, trace));
    }

    /// Emits entries that waited long enough (or all of them with `all`, at end of input).
    pub fn flush(&mut self, all: bool, out: &mut Vec<Assembled>) {
        for s in 0..2 {
            // Docker writes a split line's pieces together; a piece alone for long is final.
            let stale = self.partial[s].as_ref().is_some_and(|p| p.touched.elapsed() >= self.max_wait * 10);
            if (all || stale)
                && let Some(p) = self.partial[s].take()
            {
                self.line(s, p.ts, p.text, p.start, p.end, out);
            }
            if self.multi[s].as_ref().is_some_and(|p| all || p.touched.elapsed() >= self.max_wait) {
                self.multi[s].take().unwrap().finish(s, out);
            }
        }
        out.sort_by_key(|a| a.end);
    }

    /// The first byte not yet covered by a finished entry: where reading must resume after a
    /// restart so that nothing pending is lost.
    pub fn pending_start(&self) -> Option<u64> {
        self.partial.iter().chain(self.multi.iter()).flatten().map(|p| p.start).min()
    }

    /// When the next pending entry is due to be sent by [`Assembler::flush`] if nothing more
    /// arrives (a reader sleeps no longer than this).
    pub fn next_due(&self) -> Option<Instant> {
        let partial = self.partial.iter().flatten().map(|p| p.touched + self.max_wait * 10);
        let multi = self.multi.iter().flatten().map(|p| p.touched + self.max_wait);
        partial.chain(multi).min()
    }

    /// Whether anything is waiting for more input.
    pub fn has_pending(&self) -> bool {
        self.partial.iter().chain(self.multi.iter()).any(Option::is_some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asm(multiline: bool) -> Assembler {
        Assembler::new(&MultilineConfig { enabled: multiline, ..Default::default() }, 1 << 20).unwrap()
    }

    fn feed(a: &mut Assembler, lines: &[&str]) -> Vec<Assembled> {
        let mut out = Vec::new();
        let mut off = 0;
        for l in lines {
            let parsed = parse_line(l.as_bytes()).unwrap();
            a.push(parsed, off, off + l.len() as u64 + 1, &mut out);
            off += l.len() as u64 + 1;
        }
        a.flush(true, &mut out);
        out
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert_eq!(parse_time("2026-03-01T10:00:00.8443515Z"), Some(1_772_359_200_844_351_500));
        assert_eq!(
            parse_time("2026-03-01T10:00:00.8443515Z"),
            "2026-03-01T10:00:00.8443515Z".parse::<jiff::Timestamp>().ok().map(|t| t.as_nanosecond() as i64)
        );
        assert_eq!(
            parse_time("2024-02-29T23:59:59.000000001Z"),
            "2024-02-29T23:59:59.000000001Z".parse::<jiff::Timestamp>().ok().map(|t| t.as_nanosecond() as i64)
        );
        assert_eq!(parse_time("nope"), None);
    }

    #[test]
    fn partials_crlf_and_stack_traces() {
        let mut a = asm(true);
        let out = feed(
            &mut a,
            &[
                r#"{"log":"part one ","stream":"stdout","time":"2026-03-01T10:00:00Z"}"#,
                r#"{"log":"err\r\n","stream":"stderr","time":"2026-03-01T10:00:00.5Z"}"#,
                r#"{"log":"part two\n","stream":"stdout","time":"2026-03-01T10:00:01Z"}"#,
                r#"{"log":"Exception in thread \"main\" java.lang.IllegalStateException: boom\n","stream":"stdout","time":"2026-03-01T10:00:02Z"}"#,
                r#"{"log":"\tat com.example.Main.run(Main.java:10)\n","stream":"stdout","time":"2026-03-01T10:00:02Z"}"#,
                r#"{"log":"Caused by: java.io.IOException: disk\n","stream":"stdout","time":"2026-03-01T10:00:02Z"}"#,
                r#"{"log":"\t... 3 more\n","stream":"stdout","time":"2026-03-01T10:00:02Z"}"#,
                r#"{"log":"next line \u003cok\u003e\n","stream":"stdout","time":"2026-03-01T10:00:03Z"}"#,
            ],
        );
        let lines: Vec<&str> = out.iter().map(|o| o.line.as_str()).collect();
        assert_eq!(
            lines,
            vec![
                "err",
                "part one part two",
                "Exception in thread \"main\" java.lang.IllegalStateException: boom\n\tat com.example.Main.run(Main.java:10)\nCaused by: java.io.IOException: disk\n\t... 3 more",
                "next line <ok>",
            ]
        );
        assert!(out[0].stderr);
        assert_eq!(
            out[1].ts,
            parse_time("2026-03-01T10:00:00Z").unwrap(),
            "a joined line keeps its first piece's time"
        );
        assert_eq!(out[1].start, 0);
    }
}
