//! The assembler with the default multiline settings on real crash output (`samples/`, made by
//! the runtimes themselves): each trace is one entry, the lines around it stay their own.

use std::time::Duration;

use agent::config::MultilineConfig;
use agent::jsonfile::{Assembled, Assembler, parse_line};

const SAMPLES: [(&str, usize); 15] = [
    ("go_panic.txt", 1),
    ("go_panic_goroutines.txt", 1),
    ("go_nil_pointer.txt", 1),
    ("go_deadlock.txt", 1),
    ("python_traceback.txt", 1),
    ("python_chained.txt", 1),
    ("java_exception.txt", 1),
    ("java_printstacktrace.txt", 1),
    ("kotlin_exception.txt", 1),
    ("node_uncaught.txt", 1),
    ("node_rejection.txt", 1),
    ("node_logged.txt", 2),
    ("ruby_app.txt", 1),
    ("ruby_nomethod.txt", 1),
    ("ruby_chained.txt", 2),
];

fn sample(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Docker's json-file lines for `(stream, text)` lines, one ms apart.
fn json_file(lines: &[(&str, &str)]) -> Vec<String> {
    lines
        .iter()
        .enumerate()
        .map(|(i, (stream, l))| {
            let time = format!("2026-12-02T07:00:00.{:03}Z", i % 1000);
            serde_json::json!({"log": format!("{l}\n"), "stream": stream, "time": time}).to_string()
        })
        .collect()
}

fn assemble(a: &mut Assembler, lines: &[String]) -> Vec<Assembled> {
    let mut out = Vec::new();
    let mut off = 0u64;
    for l in lines {
        let end = off + l.len() as u64 + 1;
        a.push(parse_line(l.as_bytes()).unwrap(), off, end, &mut out);
        off = end;
    }
    a.flush(true, &mut out);
    out
}

fn default_assembler() -> Assembler {
    Assembler::new(&MultilineConfig::default(), 256 * 1024).unwrap()
}

/// Each sample between ordinary lines: the lines before and after stay single entries, the
/// sample's lines make exactly its entries, and nothing is lost or reordered.
#[test]
fn every_sample_is_one_entry_between_ordinary_lines() {
    for (name, entries) in SAMPLES {
        let text = sample(name);
        let mut lines = vec![("stderr", "2026/12/02 07:00:00 starting worker pool")];
        lines.extend(text.lines().map(|l| ("stderr", l)));
        lines.push(("stderr", "2026/12/02 07:00:01 restarting"));
        lines.push(("stderr", "listening on :5000"));
        let out = assemble(&mut default_assembler(), &json_file(&lines));
        let got: Vec<&str> = out.iter().map(|a| a.line.as_str()).collect();
        assert_eq!(got.len(), entries + 3, "{name}: {got:#?}");
        assert_eq!(got[0], "2026/12/02 07:00:00 starting worker pool", "{name}");
        assert_eq!(got[entries + 1], "2026/12/02 07:00:01 restarting", "{name}");
        assert_eq!(got[entries + 2], "listening on :5000", "{name}");
        assert_eq!(got[1..=entries].join("\n"), text.trim_end_matches('\n'), "{name}: the sample, whole and in order");
        assert!(out.iter().all(|a| a.stderr));
        let mut ends: Vec<u64> = out.iter().map(|a| a.end).collect();
        ends.dedup();
        assert_eq!(ends.len(), out.len(), "{name}: byte ranges are distinct");
    }
}

/// The samples one after another on stderr, stdout lines interleaved (per stream: stdout does not
/// cut a stderr trace), with no ordinary line between two traces.
#[test]
fn samples_back_to_back_with_stdout_interleaved() {
    let texts: Vec<String> = SAMPLES.iter().map(|(n, _)| sample(n)).collect();
    let mut lines = Vec::new();
    for t in &texts {
        for (i, l) in t.lines().enumerate() {
            lines.push(("stderr", l));
            if i == 1 {
                lines.push(("stdout", "GET /health 200"));
            }
        }
    }
    let out = assemble(&mut default_assembler(), &json_file(&lines));
    let err: Vec<&str> = out.iter().filter(|a| a.stderr).map(|a| a.line.as_str()).collect();
    let want: usize = SAMPLES.iter().map(|(_, n)| n).sum();
    assert_eq!(err.len(), want, "{err:#?}");
    assert_eq!(err.join("\n"), texts.iter().map(|t| t.trim_end_matches('\n')).collect::<Vec<_>>().join("\n"));
    assert_eq!(out.iter().filter(|a| !a.stderr).count(), SAMPLES.len());
}

/// Ordinary lines are never joined, blank lines after a finished trace stay their own entries,
/// and an indented line after a finished Python traceback starts a new entry.
#[test]
fn ordinary_lines_stay_apart() {
    let py = sample("python_traceback.txt");
    let mut lines = vec![("stdout", "a"), ("stdout", "b"), ("stdout", "Error connecting, retrying")];
    lines.extend(py.lines().map(|l| ("stdout", l)));
    lines.extend([("stdout", ""), ("stdout", "  indented after the traceback"), ("stdout", "c")]);
    let out = assemble(&mut default_assembler(), &json_file(&lines));
    let got: Vec<&str> = out.iter().map(|a| a.line.as_str()).collect();
    assert_eq!(got.len(), 7, "{got:#?}");
    assert_eq!(got[..3], ["a", "b", "Error connecting, retrying"]);
    assert!(got[3].starts_with("Traceback") && got[3].ends_with("(char 15)"));
    assert_eq!(got[4..], ["", "  indented after the traceback", "c"]);
}

/// A configured `firstline` replaces the recognisers; `max_lines` still bounds a trace.
#[test]
fn firstline_and_bounds_still_rule() {
    let go = sample("go_panic_goroutines.txt");
    let cfg = MultilineConfig { firstline: Some("^(panic|goroutine)".into()), ..Default::default() };
    let out = assemble(
        &mut Assembler::new(&cfg, 1 << 20).unwrap(),
        &json_file(&go.lines().map(|l| ("stderr", l)).collect::<Vec<_>>()),
    );
    assert_eq!(out.len(), 4, "the panic and three goroutines");
    let cfg = MultilineConfig { max_lines: 5, ..Default::default() };
    let out = assemble(
        &mut Assembler::new(&cfg, 1 << 20).unwrap(),
        &json_file(&go.lines().map(|l| ("stderr", l)).collect::<Vec<_>>()),
    );
    assert_eq!(out[0].line.lines().count(), 5);
    assert_eq!(out.iter().map(|a| a.line.lines().count().max(1)).sum::<usize>(), go.lines().count());
}

/// A trace that ends on its own (`exit status 2`, `Node.js v20...`) is sent at once; one that
/// may go on waits for `max_wait`.
#[test]
fn finished_traces_do_not_wait() {
    let go = sample("go_panic_goroutines.txt");
    let mut a = default_assembler();
    let mut out = Vec::new();
    let lines = json_file(&go.lines().map(|l| ("stderr", l)).collect::<Vec<_>>());
    let mut off = 0;
    for l in &lines {
        a.push(parse_line(l.as_bytes()).unwrap(), off, off + 1, &mut out);
        off += 1;
    }
    assert_eq!(out.len(), 1, "sent on `exit status 2`");
    assert!(!a.has_pending());
    let py = sample("python_traceback.txt");
    for l in json_file(&py.lines().map(|l| ("stderr", l)).collect::<Vec<_>>()) {
        a.push(parse_line(l.as_bytes()).unwrap(), off, off + 1, &mut out);
        off += 1;
    }
    a.flush(false, &mut out);
    assert_eq!(out.len(), 1, "a traceback may chain: it waits");
    std::thread::sleep(MultilineConfig::default().max_wait.0 + Duration::from_millis(50));
    a.flush(false, &mut out);
    assert_eq!(out.len(), 2);
}

/// The cost per line of the recognisers on ordinary lines (printed; run with --nocapture).
#[test]
fn cost_per_line() {
    let ordinary = [
        r#"172.17.0.1 - - [02/Dec/2026:07:00:01 +0000] "GET /api/cart HTTP/1.1" 200 157 "-" "curl/8.5.0""#,
        "time=2026-12-02T07:00:00Z level=info msg=served status=200 took=3ms",
        r#"{"level":"info","msg":"served","status":200}"#,
        "2026/12/02 07:00:00 worker 3 done (12 jobs)",
    ];
    let lines = json_file(&ordinary.iter().cycle().take(20_000).map(|l| ("stdout", *l)).collect::<Vec<_>>());
    let parsed: Vec<_> = lines.iter().map(|l| parse_line(l.as_bytes()).unwrap()).collect();
    let run = |cfg: MultilineConfig| {
        let mut a = Assembler::new(&cfg, 1 << 20).unwrap();
        let mut out = Vec::with_capacity(parsed.len());
        let t = std::time::Instant::now();
        for (i, l) in parsed.iter().enumerate() {
            let l = agent::jsonfile::Line { log: l.log.clone(), stderr: l.stderr, ts: l.ts };
            a.push(l, i as u64, i as u64 + 1, &mut out);
        }
        a.flush(true, &mut out);
        assert_eq!(out.len(), parsed.len());
        t.elapsed() / parsed.len() as u32
    };
    let off = run(MultilineConfig { enabled: false, ..Default::default() });
    let regex = run(MultilineConfig { firstline: Some(r"^\S".into()), ..Default::default() });
    let on = run(MultilineConfig::default());
    let t = std::time::Instant::now();
    let starts = parsed.iter().filter(|l| agent::multiline::Trace::start(&l.log).is_some()).count();
    let start = t.elapsed() / parsed.len() as u32;
    assert_eq!(starts, 0);
    println!(
        "assembler per line: multiline off {off:?}, firstline regex {regex:?}, default recognisers {on:?} (Trace::start alone {start:?})"
    );
}

/// A white-space-only line inside a trace keeps its text, joined or not.
#[test]
fn blank_lines_keep_their_text() {
    let lines = [
        ("stderr", "panic: boom"),
        ("stderr", "  "),
        ("stderr", "goroutine 1 [running]:"),
        ("stderr", "main.main()"),
        ("stderr", "\t/app/main.go:3 +0x1d"),
        ("stderr", " "),
        ("stderr", "next"),
    ];
    let out = assemble(&mut default_assembler(), &json_file(&lines));
    let got: Vec<&str> = out.iter().map(|a| a.line.as_str()).collect();
    assert_eq!(got, ["panic: boom\n  \ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:3 +0x1d", " ", "next"]);
}
