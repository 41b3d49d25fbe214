//! An alert as the ruler hands it to an Alertmanager: the JSON body of Alertmanager's
//! `POST /api/v2/alerts` (`postableAlert`), shared by the ruler (which sends it, over HTTP or
//! in process) and the built-in notifier (which receives it).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One alert instance: its identity (`labels`), what to say (`annotations`) and when it is
/// active. An `ends_at` in the past resolves it; a future one is when it expires unless sent
/// again (Prometheus sends `now + 4 × max(resend delay, group interval)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<jiff::Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<jiff::Timestamp>,
    #[serde(default, rename = "generatorURL", skip_serializing_if = "String::is_empty")]
    pub generator_url: String,
}

/// Where the ruler delivers alerts: an Alertmanager over HTTP, or the built-in notifier in
/// process. `send` must not block: implementations queue and deliver in the background.
pub trait AlertSink: Send + Sync {
    fn send(&self, alerts: Vec<PostableAlert>);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_alertmanagers() {
        let a = PostableAlert {
            labels: [("alertname".to_string(), "Down".to_string())].into(),
            starts_at: Some("2026-01-02T03:04:05Z".parse().unwrap()),
            generator_url: "http://h/alerting".into(),
            ..Default::default()
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["startsAt"], "2026-01-02T03:04:05Z");
        assert_eq!(v["generatorURL"], "http://h/alerting");
        assert!(v.get("endsAt").is_none());
        let back: PostableAlert = serde_json::from_value(v).unwrap();
        assert_eq!(back, a);
    }
}
