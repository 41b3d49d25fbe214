//! What a default Loki adds at ingestion, so that label sets match Loki's: the `service_name`
//! stream label and the `detected_level` structured metadata of each entry.

use std::sync::LazyLock;

use model::{Entry, Labels};
use regex::bytes::Regex;

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

const LEVEL_FIELDS: [&str; 14] = [
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
    Some(match v.to_ascii_lowercase().as_str() {
        "trace" | "trc" => "trace",
        "debug" | "dbg" => "debug",
        "info" | "inf" | "information" => "info",
        "warn" | "wrn" | "warning" => "warn",
        "error" | "err" => "error",
        "critical" => "critical",
        "fatal" => "fatal",
        _ => return None,
    })
}

static WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i-u)\b(?:trace|debug|fatal|critical|error|err|warning|warn|info)\b").expect("level regex")
});

/// The level a stream's labels give all its entries, if one of Loki's level fields is a label.
pub fn stream_level(labels: &Labels) -> Option<&str> {
    LEVEL_FIELDS.iter().find_map(|f| labels.get(f))
}

/// Loki's `detected_level`: from a level label (`stream_level`), level metadata, a JSON or logfmt
/// level field, or the first level word of the line; `unknown` when nothing is found.
pub fn detected_level(stream_level: Option<&str>, e: &mut Entry) {
    if let Some(i) = e.metadata.iter().position(|(k, _)| k == "detected_level") {
        if let Some(c) = canonical(&e.metadata[i].1) {
            e.metadata[i].1 = c.to_string();
        }
        return;
    }
    let from_fields = stream_level.or_else(|| {
        if e.metadata.is_empty() {
            None
        } else {
            LEVEL_FIELDS.iter().find_map(|f| e.metadata.iter().find(|(k, _)| k == f).map(|(_, v)| v.as_str()))
        }
    });
    let level = match from_fields {
        Some(v) => canonical(v).map(str::to_string).unwrap_or_else(|| v.to_string()),
        None => from_line(&e.line).to_string(),
    };
    e.metadata.push(("detected_level".to_string(), level));
}

fn from_line(line: &str) -> &'static str {
    let t = line.trim();
    let found = if t.starts_with('{') && t.ends_with('}') {
        json_level(t)
    } else if line.contains('=') {
        logfmt_level(line)
    } else {
        None
    };
    if let Some(l) = found.and_then(|v| canonical(&v)) {
        return l;
    }
    WORD.find(line.as_bytes())
        .and_then(|m| std::str::from_utf8(m.as_bytes()).ok().and_then(canonical))
        .unwrap_or("unknown")
}

fn json_level(t: &str) -> Option<String> {
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(t).ok()?;
    let find = |m: &serde_json::Map<String, serde_json::Value>| {
        LEVEL_FIELDS.iter().find_map(|f| m.get(*f).and_then(|v| v.as_str()).map(str::to_string))
    };
    find(&v).or_else(|| v.values().filter_map(|x| x.as_object()).find_map(find))
}

fn logfmt_level(line: &str) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for pair in line.split_ascii_whitespace() {
        let Some((k, v)) = pair.split_once('=') else { continue };
        let Some(rank) = LEVEL_FIELDS.iter().position(|f| f.eq_ignore_ascii_case(k)) else { continue };
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, v.trim_matches('"').to_string()));
        }
    }
    best.map(|b| b.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(labels: &[(&str, &str)], line: &str) -> String {
        let l = Labels::from_pairs(labels.iter().copied()).unwrap();
        let mut e = Entry::new(0, line);
        detected_level(stream_level(&l), &mut e);
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
}
