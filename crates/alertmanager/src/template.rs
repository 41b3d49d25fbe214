//! The few Go-template references a `title` or `text` may use, so common Alertmanager
//! configurations work without a template engine: `{{ .Status }}` (optionally `| toUpper`),
//! `{{ .Receiver }}`, `{{ .ExternalURL }}`, `{{ .GroupLabels.x }}`, `{{ .CommonLabels.x }}`,
//! `{{ .CommonAnnotations.x }}`, `{{ template "__subject" . }}` and the default texts. Anything
//! else is refused when the configuration is read.

use crate::notification::Notification;

/// Checks that a template only uses what [`render`] knows.
pub fn check(t: &str) -> Result<(), String> {
    walk(t, &mut |expr| resolve(expr, None).map(|_| ()))
}

/// Fills a checked template.
pub fn render(t: &str, n: &Notification) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}") else { break };
        let expr = &rest[open + 2..open + close];
        out.push_str(&resolve(expr, Some(n)).unwrap_or_default());
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

fn walk(t: &str, f: &mut dyn FnMut(&str) -> Result<(), String>) -> Result<(), String> {
    let mut rest = t;
    while let Some(open) = rest.find("{{") {
        let close = rest[open..].find("}}").ok_or("unclosed '{{'")?;
        f(&rest[open + 2..open + close])?;
        rest = &rest[open + close + 2..];
    }
    Ok(())
}

fn resolve(expr: &str, n: Option<&Notification>) -> Result<String, String> {
    let e = expr.trim().trim_start_matches('-').trim_end_matches('-').trim();
    let (e, upper) = match e.strip_suffix("| toUpper") {
        Some(base) => (base.trim(), true),
        None => (e, false),
    };
    let value = match e {
        ".Status" => n.map(|n| n.status().to_string()),
        ".Receiver" => n.map(|n| n.receiver.clone()),
        ".ExternalURL" => n.map(|n| n.external_url.clone()),
        "template \"__subject\" ." | "template \"slack.default.title\" ." | "template \"email.default.subject\" ." => {
            n.map(Notification::subject)
        }
        "template \"slack.default.text\" ." | "template \"__text_alert_list\" ." => n.map(Notification::text_body),
        _ => {
            let field = |prefix: &str| e.strip_prefix(prefix).filter(|k| !k.is_empty() && !k.contains(' '));
            if let Some(k) = field(".GroupLabels.") {
                n.map(|n| n.group_labels.get(k).cloned().unwrap_or_default())
            } else if let Some(k) = field(".CommonLabels.") {
                n.map(|n| n.common_labels.get(k).cloned().unwrap_or_default())
            } else if let Some(k) = field(".CommonAnnotations.") {
                n.map(|n| n.common_annotations.get(k).cloned().unwrap_or_default())
            } else {
                return Err(format!(
                    "template {{{{{expr}}}}} is not supported (only .Status, .Receiver, .ExternalURL, \
                     .GroupLabels.x, .CommonLabels.x, .CommonAnnotations.x and the default templates)"
                ));
            }
        }
    };
    let v = value.unwrap_or_default();
    Ok(if upper { v.to_uppercase() } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset() {
        assert!(check("[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}").is_ok());
        assert!(check("{{ range .Alerts }}x{{ end }}").unwrap_err().contains("not supported"));
        assert!(check("{{ .Status").is_err());
        let n = Notification::new(
            "team",
            "k",
            [("alertname".to_string(), "Down".to_string())].into(),
            vec![],
            "http://x",
            jiff::Timestamp::now(),
        );
        assert_eq!(
            render("{{ .Status | toUpper }} {{ .GroupLabels.alertname }} {{ .Receiver }}", &n),
            "RESOLVED Down team"
        );
    }
}
