//! What a default Loki adds at ingestion, so that label sets match Loki's: the `service_name`
//! stream label and the `detected_level` structured metadata of each entry. Beyond Loki, a level
//! for lines people read as errors though they name no level: 5xx access lines (4xx: warn) and
//! crashes (Go panics, Python tracebacks, uncaught exceptions, joined stack traces).

mod crash;
mod json;
mod status;

use model::Labels;

/// Loki's `service_name` discovery: copy the first present label of `list`, or "unknown_service".
pub fn service_name(labels: &mut Labels, list: &[String]) {
    if list.is_empty() || labels.get("service_name").is_some() {
        return;
    }
    if labels.get("__aggregated_metric__").is_some() || labels.get("__pattern__").is_some() {
        return;
    }
    let v = list.iter().find_map(|n| labels.get(n)).unwrap_or("unknown_service").to_string();
    labels.set("service_name", &v);
}

/// Loki's default `log_level_fields`: the fields a level is read from.
pub const LEVEL_FIELDS: [&str; 14] = [
    "level",
    "LEVEL",
    "Level",
    "log.level",
    "severity",
    "SEVERITY",
    "Severity",
    "SeverityText",
    "lvl",
    "LVL",
    "Lvl",
    "severity_text",
    "Severity_Text",
    "SEVERITY_TEXT",
];

/// The canonical level of a known level word (case-insensitive), if it is one.
fn canonical(v: &str) -> Option<&'static str> {
    const WORDS: [(&str, &str); 14] = [
        ("info", "info"),
        ("error", "error"),
        ("warn", "warn"),
        ("debug", "debug"),
        ("warning", "warn"),
        ("err", "error"),
        ("trace", "trace"),
        ("fatal", "fatal"),
        ("critical", "critical"),
        ("inf", "info"),
        ("information", "info"),
        ("wrn", "warn"),
        ("dbg", "debug"),
        ("trc", "trace"),
    ];
    if !(3..=11).contains(&v.len()) {
        return None;
    }
    WORDS.iter().find(|(w, _)| w.eq_ignore_ascii_case(v)).map(|(_, c)| *c)
}

/// The words [`word`] looks for in a line.
const LINE_WORDS: [&str; 9] = ["info", "error", "warn", "debug", "warning", "err", "trace", "fatal", "critical"];
const _: () = {
    // `word` looks only at words starting with one of these letters.
    let mut i = 0;
    while i < LINE_WORDS.len() {
        let first = LINE_WORDS[i].as_bytes()[0];
        let mut j = 0;
        while j < crate::tokens::LEVEL_INITIALS.len() && crate::tokens::LEVEL_INITIALS[j] != first {
            j += 1;
        }
        assert!(j < crate::tokens::LEVEL_INITIALS.len(), "a level word's first letter is not scanned for");
        i += 1;
    }
};

/// The level a stream's labels give all its entries, if one of Loki's level fields is a label.
pub fn stream_level(labels: &Labels) -> Option<&str> {
    LEVEL_FIELDS.iter().find_map(|f| labels.get(f))
}

/// Loki's `detected_level`: from a level label (`stream_level`), level metadata, a JSON or logfmt
/// level field, or the first level word of the line; `unknown` when nothing is found.
///
/// Where no label, metadata or field names a level, two things come before the level word:
/// - an access-log line's HTTP status (combined/common log format, a logfmt `status=` or a JSON
///   status field): 5xx is `error`, 4xx `warn` (other statuses say nothing);
/// - a crash: a line starting `panic: `, `fatal error: `, `Traceback (most recent call last):`
///   or `Exception in thread "` is `error`, and so is a joined stack trace unless its first line
///   carries a level word (a logger's header: `WARN retrying\n java.io.IOException...`).
///
/// An explicit level wins over the status: `{"level":"info","status":503}` stays `info` (the
/// application said so; an access logger that writes every request at `info`, as Caddy does,
/// keeps its word). Loki gives such lines `unknown` or a word of the path; it compares none of
/// them in its conformance scripts (they run without level discovery).
pub fn detected_level(stream_level: Option<&str>, line: &str, metadata: &mut model::Metadata) {
    if let Some(i) = metadata.iter().position(|(k, _)| k == "detected_level") {
        if let Some(c) = canonical(&metadata[i].1)
            && metadata[i].1 != c
        {
            metadata.make_mut()[i].1 = c.to_string();
        }
        return;
    }
    let from_fields = stream_level.or_else(|| {
        if metadata.is_empty() {
            None
        } else {
            LEVEL_FIELDS.iter().find_map(|f| metadata.iter().find(|(k, _)| k == f).map(|(_, v)| v.as_str()))
        }
    });
    // Borrowed until it is stored: most entries get a shared set and allocate nothing.
    let level: std::borrow::Cow<str> = match from_fields {
        Some(v) => canonical(v).map_or_else(|| v.to_string().into(), Into::into),
        None => match metadata.iter().find(|(k, _)| k == "severity_number") {
            Some((_, n)) => otlp_severity(n).into(),
            None => from_line(line).into(),
        },
    };
    if metadata.is_empty() {
        *metadata = level_only(&level);
    } else {
        metadata.make_mut().push(("detected_level".to_string(), level.into_owned()));
    }
}

/// The levels discovery gives most entries, whose metadata sets are made once and shared.
const SHARED_LEVELS: [&str; 9] = ["info", "error", "warn", "debug", "trace", "fatal", "critical", "unknown", "notice"];

/// The metadata set `detected_level=<level>` alone, the set most entries get: one set per
/// level and thread, shared, instead of three allocations per entry. The common levels are
/// found by position; a level taken from a field (`NOTICE`, `emerg`) can be any text, so at
/// most [`OTHER_LEVELS`] others are kept. Per thread, because two threads taking the same
/// set's reference count made its cache line bounce between cores: a third of discovery's own
/// time.
fn level_only(level: &str) -> model::Metadata {
    thread_local! {
        static SETS: Vec<model::Metadata> = SHARED_LEVELS.iter().map(|l| level_set(l)).collect();
        static OTHERS: std::cell::RefCell<Vec<model::Metadata>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    if let Some(i) = SHARED_LEVELS.iter().position(|l| *l == level) {
        return SETS.with(|s| s[i].clone());
    }
    OTHERS.with_borrow_mut(|sets| {
        if let Some(m) = sets.iter().find(|m| m[0].1 == level) {
            return m.clone();
        }
        let m = level_set(level);
        if sets.len() < OTHER_LEVELS {
            sets.push(m.clone());
        }
        m
    })
}

/// How many levels beside [`SHARED_LEVELS`] each thread keeps a shared set for.
const OTHER_LEVELS: usize = 32;

fn level_set(level: &str) -> model::Metadata {
    model::Metadata::new(vec![("detected_level".to_string(), level.to_string())])
}

/// Loki's level for an OTLP `severity_number` (the OpenTelemetry ranges: 1–4 trace, 5–8 debug,
/// 9–12 info, 13–16 warn, 17–20 error, 21–24 fatal); a number that does not parse is `info`.
fn otlp_severity(n: &str) -> &'static str {
    match n.parse::<i64>() {
        Err(_) => "info",
        Ok(0) => "unknown",
        Ok(n) if n <= 4 => "trace",
        Ok(n) if n <= 8 => "debug",
        Ok(n) if n <= 12 => "info",
        Ok(n) if n <= 16 => "warn",
        Ok(n) if n <= 20 => "error",
        Ok(n) if n <= 24 => "fatal",
        Ok(_) => "unknown",
    }
}

/// What a line's own fields say: its level field, else its HTTP status.
#[derive(Default)]
struct Fields<'a> {
    level: Option<std::borrow::Cow<'a, str>>,
    status: Option<u16>,
}

fn from_line(line: &str) -> &'static str {
    // Most lines start and end with a visible ASCII byte: nothing to trim, no characters decoded.
    let visible = |b: Option<&u8>| b.is_some_and(u8::is_ascii_graphic);
    let t = if visible(line.as_bytes().first()) && visible(line.as_bytes().last()) { line } else { line.trim() };
    let fields = if t.starts_with('{') && t.ends_with('}') {
        json_fields(t)
    } else if memchr::memchr(b'=', line.as_bytes()).is_some() {
        logfmt_fields(line)
    } else {
        Fields::default()
    };
    if let Some(l) = fields.level.as_deref().and_then(canonical) {
        return l;
    }
    let status = fields.status.or_else(|| status::from_access_line(line));
    if let Some(l) = status.and_then(status::level) {
        return l;
    }
    if crash::starts_crash(line) {
        return "error";
    }
    if let Some(header) = crash::trace_header(line) {
        return if crash::is_exception_line(header) { "error" } else { word(header).unwrap_or("error") };
    }
    word(line).unwrap_or("unknown")
}

/// The first level word of `s`: the first whole word (a maximal run of ASCII letters, digits
/// and `_`, as `\b` bounds it) that is one of [`LINE_WORDS`], in any case.
fn word(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    let mut found = None;
    // Most words start with a letter no level word starts with: those are never looked at.
    crate::tokens::level_word_spans(b, |st, end| {
        let w = &b[st..end];
        if (3..=8).contains(&w.len()) && LINE_WORDS.iter().any(|l| l.as_bytes().eq_ignore_ascii_case(w)) {
            found = std::str::from_utf8(w).ok().and_then(canonical);
        }
        found.is_none()
    });
    found
}

/// Reads the object once for both its level (top level, then one object deep) and its status.
fn json_fields(t: &str) -> Fields<'_> {
    let Some(v) = json::parse(t) else {
        return Fields::default();
    };
    fn find<'a>(m: &json::Obj<'a>) -> Option<std::borrow::Cow<'a, str>> {
        LEVEL_FIELDS.iter().find_map(|f| match m.get(f) {
            Some(json::Val::Str(s)) => Some(s.clone()),
            _ => None,
        })
    }
    let level = find(&v).or_else(|| v.values().filter_map(json::Val::as_object).find_map(find));
    let status = if level.as_deref().and_then(canonical).is_some() { None } else { status::from_json(&v) };
    Fields { level, status }
}

/// The best-ranked level field and the first status field of a line's logfmt pairs, fed one
/// pair at a time.
#[derive(Default)]
struct Pairs<'a> {
    best: Option<(usize, &'a str)>,
    status: Option<u16>,
}

impl<'a> Pairs<'a> {
    fn add(&mut self, k: &str, v: &'a str) {
        match LEVEL_FIELDS.iter().position(|f| f.eq_ignore_ascii_case(k)) {
            Some(rank) => {
                if self.best.is_none_or(|(r, _)| rank < r) {
                    self.best = Some((rank, v.trim_matches('"')));
                }
            }
            None => {
                if self.status.is_none() && status::is_key(k) {
                    self.status = status::from_value(v);
                }
            }
        }
    }

    fn fields(self) -> Fields<'a> {
        Fields { level: self.best.map(|b| b.1.into()), status: self.status }
    }
}

/// One pass over the pairs (fields between ASCII whitespace, split at their first `=`). The
/// line's `=`s are found in one pass; each pair's edges are then looked for around its `=`
/// (fields without one cost nothing).
fn logfmt_fields(line: &str) -> Fields<'_> {
    let b = line.as_bytes();
    let mut pairs = Pairs::default();
    // Where the last pair ends: a `=` before it is part of that pair's value.
    let mut pair_end = 0;
    for eq in memchr::memchr_iter(b'=', b) {
        if eq < pair_end {
            continue;
        }
        let start = b[..eq].iter().rposition(u8::is_ascii_whitespace).map_or(0, |i| i + 1);
        pair_end = b[eq + 1..].iter().position(u8::is_ascii_whitespace).map_or(b.len(), |i| eq + 1 + i);
        pairs.add(&line[start..eq], &line[eq + 1..pair_end]);
    }
    pairs.fields()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Entry;

    fn level(labels: &[(&str, &str)], line: &str) -> String {
        let l = Labels::from_pairs(labels.iter().copied()).unwrap();
        let mut e = Entry::new(0, line);
        detected_level(stream_level(&l), &e.line, &mut e.metadata);
        e.metadata.last().unwrap().1.clone()
    }

    #[test]
    fn levels_like_loki() {
        assert_eq!(level(&[], r#"{"msg":"x","level":"WARNING"}"#), "warn");
        assert_eq!(level(&[], r#"{"log":{"severity":"err"}}"#), "error");
        assert_eq!(level(&[], "ts=1 lvl=dbg msg=hi"), "debug");
        assert_eq!(level(&[], "2024 [main] ERROR something failed"), "error");
        assert_eq!(level(&[], "an informational message"), "unknown");
        assert_eq!(level(&[], "Info: started"), "info");
        assert_eq!(level(&[("level", "notice")], "error here"), "notice");
        assert_eq!(level(&[], "nothing to see"), "unknown");
        let mut s = Labels::from_pairs([("app", "web")]).unwrap();
        service_name(&mut s, &["service".into(), "app".into()]);
        assert_eq!(s.get("service_name"), Some("web"));
    }

    /// The pairs as whitespace-separated fields split at their first `=`, as found one by one.
    fn logfmt_by_fields(line: &str) -> (Option<String>, Option<u16>) {
        let mut pairs = Pairs::default();
        for pair in line.split_ascii_whitespace() {
            if let Some(eq) = pair.find('=') {
                pairs.add(&pair[..eq], &pair[eq + 1..]);
            }
        }
        let f = pairs.fields();
        (f.level.map(|l| l.into_owned()), f.status)
    }

    #[test]
    fn logfmt_pairs_found_from_their_equals_signs_are_the_fields_split() {
        let parts = [
            "level", "LEVEL", "lvl", "severity", "status", "code", "=", "==", "warn", "\"err\"", "500", "404", "x",
            " ", "  ", "\t", "\r\n", "é", "ü=", "=é", "msg", "a=b",
        ];
        let mut x = 11u64;
        for _ in 0..50_000 {
            let mut line = String::new();
            for _ in 0..(x % 11) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                line.push_str(parts[(x >> 33) as usize % parts.len()]);
            }
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let f = logfmt_fields(&line);
            assert_eq!((f.level.map(|l| l.into_owned()), f.status), logfmt_by_fields(&line), "{line:?}");
        }
    }

    #[test]
    fn level_words_as_the_regex_finds_them() {
        let re =
            regex::bytes::Regex::new(r"(?i-u)\b(?:trace|debug|fatal|critical|error|err|warning|warn|info)\b").unwrap();
        let parts = [
            "ERR", "error", "Errors", "_warn", "warn_", "Warning", "info", "inform", "é", "trace", "x", "9", "-", " ",
            ":", "[", "Fatal", "critICAL", "dbg", "é-info",
        ];
        let mut x = 7u64;
        for _ in 0..20_000 {
            let mut line = String::new();
            for _ in 0..(x % 7) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                line.push_str(parts[(x >> 33) as usize % parts.len()]);
            }
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let want =
                re.find(line.as_bytes()).and_then(|m| std::str::from_utf8(m.as_bytes()).ok().and_then(canonical));
            assert_eq!(word(&line), want, "{line:?}");
        }
    }

    #[test]
    fn level_sets_are_shared_between_entries() {
        assert!(level_only("info").ptr_eq(&level_only("info")));
        // A level from a field, any text: shared too, within the bound.
        assert!(level_only("NOTICE").ptr_eq(&level_only("NOTICE")));
        assert_eq!(level_only("NOTICE")[0], ("detected_level".to_string(), "NOTICE".to_string()));
        for i in 0..2 * OTHER_LEVELS {
            assert_eq!(level_only(&format!("l{i}"))[0].1, format!("l{i}"));
        }
    }

    #[test]
    fn otlp_severity_numbers() {
        let lvl = |meta: &[(&str, &str)], line: &str| {
            let mut e = Entry::new(0, line);
            e.metadata = meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            detected_level(None, &e.line, &mut e.metadata);
            e.metadata.last().unwrap().1.clone()
        };
        assert_eq!(lvl(&[("severity_number", "17")], "level=info x"), "error", "the number before the line");
        assert_eq!(lvl(&[("severity_number", "13")], "x"), "warn");
        assert_eq!(lvl(&[("severity_number", "4")], "x"), "trace");
        assert_eq!(lvl(&[("severity_number", "24")], "x"), "fatal");
        assert_eq!(lvl(&[("severity_number", "9"), ("severity_text", "Warning")], "x"), "warn", "the text first");
        assert_eq!(lvl(&[("severity_number", "0")], "error"), "unknown");
    }

    #[test]
    fn access_lines_by_status() {
        // nginx `combined`: the path's "info" no longer decides.
        let nginx = r#"172.17.0.1 - - [02/Dec/2026:07:00:01 +0000] "GET /info HTTP/1.1" 502 157 "-" "curl/8.5.0""#;
        assert_eq!(level(&[], nginx), "error");
        let apache = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326"#;
        assert_eq!(level(&[], apache), "warn");
        let ok = r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /x HTTP/1.0" 200 2326 "-" "curl/8""#;
        assert_eq!(level(&[], ok), "unknown", "a 2xx says nothing: as Loki");
        // logfmt: Heroku's router (`at=info` is no level field), Go's slog text handler.
        let router = r#"at=info method=GET path="/" host=shop.example.com fwd="1.2.3.4" dyno=web.1 connect=0ms service=3ms status=503 bytes=1024"#;
        assert_eq!(level(&[], router), "error");
        assert_eq!(level(&[], "time=2026-12-02T07:00:00Z msg=served http.status=500"), "error");
        assert_eq!(level(&[], "msg=served status_code=429"), "warn");
        assert_eq!(level(&[], "time=x level=INFO msg=served status=500"), "info", "an explicit level wins");
        // JSON: pino-http (numeric level, status under res), OpenTelemetry-style nesting.
        let pino = r#"{"level":30,"time":1764658800000,"pid":7,"hostname":"web","req":{"id":1,"method":"GET","url":"/cart"},"res":{"statusCode":500},"responseTime":4,"msg":"request completed"}"#;
        assert_eq!(level(&[], pino), "error");
        assert_eq!(level(&[], r#"{"msg":"served","http":{"status_code":503}}"#), "error");
        assert_eq!(level(&[], r#"{"msg":"served","statusCode":404}"#), "warn");
        assert_eq!(level(&[], r#"{"level":"info","status":503}"#), "info", "an explicit level wins");
        assert_eq!(level(&[("level", "info")], nginx), "info", "a level label wins");
    }

    #[test]
    fn crashes_are_errors() {
        // Go 1.19's output (GOTRACEBACK=all, go run), as the agent joins it: no level word in it.
        let go = "panic: order 3: inventory went negative\n\ngoroutine 18 [running]:\nmain.worker(0x0?, 0x0?)\n\t/app/main.go:15 +0xeb\ncreated by main.main\n\t/app/main.go:24 +0x9a\nexit status 2";
        assert_eq!(level(&[], go), "error");
        assert_eq!(level(&[], "fatal error: all goroutines are asleep - deadlock!"), "error");
        let py = "Traceback (most recent call last):\n  File \"/app/x.py\", line 3, in <module>\n    info()\nValueError: bad";
        assert_eq!(level(&[], py), "error", "not the word 'info' of a frame");
        let node = "TypeError: Cannot read properties of undefined (reading 'info')\n    at main (/app/x.js:2:9)";
        assert_eq!(level(&[], node), "error");
        let ruby = "app.rb:3:in 'foo': boom (RuntimeError)\n\tfrom app.rb:7:in '<main>'";
        assert_eq!(level(&[], ruby), "error");
        let logged =
            "2026-12-02 07:00:00 WARN  c.e.Retry - retrying\njava.io.IOException: reset\n\tat c.e.Net.read(Net.java:9)";
        assert_eq!(level(&[], logged), "warn", "a logger's header keeps its level");
        assert_eq!(level(&[], "a plain line\nand its continuation at noon"), "unknown");
    }
}
