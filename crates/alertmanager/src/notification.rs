//! What one notification says: a group's alerts with the data Alertmanager's templates see
//! (status, group labels, common labels and annotations, external URL), and the default
//! subject and body texts every receiver shares.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::alerts::Alert;

#[derive(Debug, Clone)]
pub struct Notification {
    pub receiver: String,
    pub group_key: String,
    pub group_labels: BTreeMap<String, String>,
    pub common_labels: BTreeMap<String, String>,
    pub common_annotations: BTreeMap<String, String>,
    pub external_url: String,
    /// Firing ones first, then resolved, each by start time.
    pub alerts: Vec<Alert>,
    /// When the notification was made: decides which alerts count as resolved.
    pub now: Timestamp,
}

fn common(maps: &mut dyn Iterator<Item = &BTreeMap<String, String>>) -> BTreeMap<String, String> {
    let Some(first) = maps.next() else { return BTreeMap::new() };
    let mut c = first.clone();
    for m in maps {
        c.retain(|k, v| m.get(k) == Some(v));
    }
    c
}

impl Notification {
    pub fn new(
        receiver: &str,
        group_key: &str,
        group_labels: BTreeMap<String, String>,
        mut alerts: Vec<Alert>,
        external_url: &str,
        now: Timestamp,
    ) -> Self {
        alerts.sort_by_key(|a| (a.resolved(now), a.starts_at, a.fingerprint));
        Notification {
            receiver: receiver.to_string(),
            group_key: group_key.to_string(),
            group_labels,
            common_labels: common(&mut alerts.iter().map(|a| &a.labels)),
            common_annotations: common(&mut alerts.iter().map(|a| &a.annotations)),
            external_url: external_url.to_string(),
            alerts,
            now,
        }
    }

    /// `firing` while any alert fires, else `resolved`.
    pub fn status(&self) -> &'static str {
        if self.firing().next().is_some() { "firing" } else { "resolved" }
    }

    pub fn alert_status(&self, a: &Alert) -> &'static str {
        if a.resolved(self.now) { "resolved" } else { "firing" }
    }

    pub fn firing(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| !a.resolved(self.now))
    }

    pub fn resolved(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.resolved(self.now))
    }

    /// Alertmanager's default subject: `[FIRING:2] <group label values> (<other common label values>)`.
    pub fn subject(&self) -> String {
        let mut s = match self.status() {
            "firing" => format!("[FIRING:{}]", self.firing().count()),
            _ => "[RESOLVED]".to_string(),
        };
        let values: Vec<&str> = self.group_labels.values().map(String::as_str).collect();
        if !values.is_empty() {
            s.push(' ');
            s.push_str(&values.join(" "));
        }
        let extra: Vec<&str> = self
            .common_labels
            .iter()
            .filter(|(k, _)| !self.group_labels.contains_key(*k))
            .map(|(_, v)| v.as_str())
            .collect();
        if !extra.is_empty() {
            s.push_str(&format!(" ({})", extra.join(" ")));
        }
        s
    }

    /// One line per alert: its name, summary or description, and labels.
    pub fn alert_line(&self, a: &Alert) -> String {
        let name = a.label("alertname").unwrap_or("alert");
        let what = a
            .annotations
            .get("summary")
            .or_else(|| a.annotations.get("description"))
            .or_else(|| a.annotations.get("message"))
            .map(String::as_str)
            .unwrap_or("");
        let labels: Vec<String> =
            a.labels.iter().filter(|(k, _)| k.as_str() != "alertname").map(|(k, v)| format!("{k}={v}")).collect();
        let mut line = format!("[{}] {name}", self.alert_status(a).to_uppercase());
        if !what.is_empty() {
            line.push_str(&format!(": {what}"));
        }
        if !labels.is_empty() {
            line.push_str(&format!(" ({})", labels.join(", ")));
        }
        line
    }

    /// The plain-text body: every alert with its annotations, labels, times and source.
    pub fn text_body(&self) -> String {
        let mut out = String::new();
        for (title, list) in [("Firing", self.firing().collect::<Vec<_>>()), ("Resolved", self.resolved().collect())] {
            if list.is_empty() {
                continue;
            }
            out.push_str(&format!("{} alert(s) {}:\n\n", list.len(), title.to_lowercase()));
            for a in list {
                out.push_str(&format!("- {}\n", self.alert_line(a)));
                for (k, v) in &a.annotations {
                    out.push_str(&format!("    {k}: {v}\n"));
                }
                out.push_str(&format!("    started: {}\n", a.starts_at));
                if a.resolved(self.now) {
                    out.push_str(&format!("    ended: {}\n", a.ends_at));
                }
                if !a.generator_url.is_empty() {
                    out.push_str(&format!("    source: {}\n", a.generator_url));
                }
            }
            out.push('\n');
        }
        if !self.external_url.is_empty() {
            out.push_str(&format!("Sent by Bitácora: {}\n", self.external_url));
        }
        out
    }

    /// The HTML body: the same content as a table per state.
    pub fn html_body(&self) -> String {
        let mut out = format!("<!DOCTYPE html><html><body><h2>{}</h2>", esc(&self.subject()));
        for (title, list) in [("Firing", self.firing().collect::<Vec<_>>()), ("Resolved", self.resolved().collect())] {
            if list.is_empty() {
                continue;
            }
            out.push_str(&format!("<h3>{} {title}</h3><ul>", list.len()));
            for a in list {
                out.push_str(&format!("<li><strong>{}</strong>", esc(&self.alert_line(a))));
                out.push_str("<br>");
                for (k, v) in &a.annotations {
                    out.push_str(&format!("{}: {}<br>", esc(k), esc(v)));
                }
                if !a.generator_url.is_empty() {
                    out.push_str(&format!("<a href=\"{}\">Source</a>", esc(&a.generator_url)));
                }
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
        if !self.external_url.is_empty() {
            out.push_str(&format!("<p><a href=\"{0}\">{0}</a></p>", esc(&self.external_url)));
        }
        out.push_str("</body></html>");
        out
    }
}

/// HTML escaping.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::alert::PostableAlert;
    use std::time::Duration;

    #[test]
    fn subject_like_alertmanager() {
        let now = Timestamp::now();
        let mk = |inst: &str, end: Option<Timestamp>| {
            let p = PostableAlert {
                labels: [("alertname", "Down"), ("job", "web"), ("instance", inst)]
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                annotations: [("summary".to_string(), format!("{inst} is down"))].into(),
                ends_at: end,
                starts_at: Some(now - Duration::from_secs(60)),
                ..Default::default()
            };
            crate::alerts::validate(p, now, Duration::from_secs(300)).unwrap()
        };
        let gl: BTreeMap<_, _> = [("alertname".to_string(), "Down".to_string())].into();
        let n = Notification::new("r", "k", gl.clone(), vec![mk("a", None), mk("b", None)], "http://x", now);
        assert_eq!(n.subject(), "[FIRING:2] Down (web)");
        assert!(n.text_body().contains("[FIRING] Down: a is down (instance=a, job=web)"));
        let n = Notification::new("r", "k", gl, vec![mk("a", Some(now - Duration::from_secs(1)))], "", now);
        assert_eq!(n.subject(), "[RESOLVED] Down (a web)");
        assert!(n.html_body().contains("1 Resolved"));
    }
}
