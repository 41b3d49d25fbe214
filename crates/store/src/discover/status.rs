//! The HTTP status of an access-log line, when the line is one: a combined/common log format
//! line (Apache, nginx, Traefik, gorilla...), a logfmt `status=` field or a JSON status field
//! (flat, dotted, or nested the way pino, OpenTelemetry and Google Cloud write it).

use super::json::{Obj, Val};

/// Field names holding a response status, at the top level of a JSON object or as logfmt keys.
const KEYS: [&str; 9] = [
    "status",
    "status_code",
    "statusCode",
    "http.status",
    "http.status_code",
    "http.response.status_code",
    "http_status",
    "response_status",
    "res.statusCode",
];

/// Objects a JSON status may be nested in: `{"http":{"status_code":..}}`,
/// `{"res":{"statusCode":..}}` (pino), `{"http":{"response":{"status_code":..}}}`,
/// `{"httpRequest":{"status":..}}` (Google Cloud).
const NESTS: [&str; 4] = ["http", "res", "response", "httpRequest"];

/// The level a status means: `error` for 5xx, `warn` for 4xx, nothing otherwise.
pub fn level(status: u16) -> Option<&'static str> {
    match status {
        500..=599 => Some("error"),
        400..=499 => Some("warn"),
        _ => None,
    }
}

fn code(v: &str) -> Option<u16> {
    let b = v.as_bytes();
    if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = v.parse().ok()?;
    (100..600).contains(&n).then_some(n)
}

/// Whether `k` is one of the logfmt keys naming a status.
pub fn is_key(k: &str) -> bool {
    KEYS.contains(&k)
}

/// A logfmt status value (`500`, `"500"`).
pub fn from_value(v: &str) -> Option<u16> {
    code(v.trim_matches('"'))
}

/// The status of a decoded JSON object, looking two objects deep under the usual names.
pub fn from_json(m: &Obj) -> Option<u16> {
    in_object(m, 2)
}

fn in_object(m: &Obj, depth: u8) -> Option<u16> {
    for k in KEYS {
        match m.get(k) {
            Some(Val::Num(n)) => {
                if let Some(c) = n.filter(|c| (100..600).contains(c)) {
                    return Some(c as u16);
                }
            }
            Some(Val::Str(s)) => {
                if let Some(c) = code(s) {
                    return Some(c);
                }
            }
            _ => {}
        }
    }
    if depth == 0 {
        return None;
    }
    NESTS.iter().filter_map(|k| m.get(k).and_then(Val::as_object)).find_map(|o| in_object(o, depth - 1))
}

/// The status of a combined/common log format line: the three digits after the quoted request
/// (`"GET /x HTTP/1.1" 500 2326`). Also the unquoted `GET /x HTTP/1.1 500` some proxies write.
pub fn from_access_line(line: &str) -> Option<u16> {
    static HTTP: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"HTTP/"));
    let b = line.as_bytes();
    let mut from = 0;
    while let Some(i) = HTTP.find(&b[from..]) {
        let mut j = from + i + 5;
        from = j;
        while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
            j += 1;
        }
        if j == from {
            continue; // "HTTP/" without a version
        }
        if b.get(j) == Some(&b'"') {
            j += 1;
        }
        if b.get(j) != Some(&b' ') {
            continue;
        }
        let digits = b.get(j + 1..j + 4)?;
        if matches!(b.get(j + 4), None | Some(b' ' | b'\t' | b'\n' | b'\r'))
            && let Some(c) = std::str::from_utf8(digits).ok().and_then(code)
        {
            return Some(c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_lines() {
        // nginx's default `combined` format.
        let nginx = r#"172.17.0.1 - - [02/Dec/2026:07:00:01 +0000] "GET /api/cart HTTP/1.1" 502 157 "-" "curl/8.5.0""#;
        assert_eq!(from_access_line(nginx), Some(502));
        // Apache's common log format, from its documentation's example.
        let apache = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
        assert_eq!(from_access_line(apache), Some(200));
        // HTTP/2, a status at the end of the line.
        assert_eq!(from_access_line(r#"10.0.0.1 - - [x] "POST /q HTTP/2.0" 404"#), Some(404));
        assert_eq!(from_access_line("GET /x HTTP/1.1 503 12ms"), Some(503));
        // Not an access line.
        assert_eq!(from_access_line("uses HTTP/1.1 with 5000 clients"), None);
        assert_eq!(from_access_line("HTTP/ 500 "), None);
        assert_eq!(from_access_line("upgrade to HTTP/2 1234"), None);
        assert_eq!(from_access_line(r#""GET / HTTP/1.1" 999 1"#), None);
        assert_eq!(from_access_line(r#""GET / HTTP/1.1" 50"#), None);
    }

    #[test]
    fn json_and_logfmt() {
        fn m(s: &str) -> Obj<'_> {
            super::super::json::parse(s).unwrap()
        }
        assert_eq!(from_json(&m(r#"{"status":500}"#)), Some(500));
        assert_eq!(from_json(&m(r#"{"statusCode":"404"}"#)), Some(404));
        assert_eq!(from_json(&m(r#"{"http":{"status_code":503}}"#)), Some(503));
        assert_eq!(from_json(&m(r#"{"http":{"response":{"status_code":500}}}"#)), Some(500));
        assert_eq!(from_json(&m(r#"{"res":{"statusCode":500}}"#)), Some(500));
        assert_eq!(from_json(&m(r#"{"status":"ok","code":500}"#)), None);
        assert_eq!(from_json(&m(r#"{"status":5000}"#)), None);
        assert!(is_key("status") && is_key("http.status") && !is_key("code"));
        assert_eq!(from_value("\"500\""), Some(500));
        assert_eq!(from_value("5xx"), None);
    }
}
