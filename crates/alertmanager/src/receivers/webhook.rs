//! Alertmanager's webhook: a POST of its JSON (version 4) to the configured URL.

use serde_json::{Value, json};

use super::{SendError, check_response};
use crate::config::WebhookConfig;
use crate::notification::Notification;

pub struct Webhook {
    url: String,
    max_alerts: usize,
}

impl Webhook {
    pub fn new(c: &WebhookConfig) -> Self {
        Webhook { url: c.url.expose().to_string(), max_alerts: c.max_alerts }
    }

    pub async fn send(&self, n: &Notification, http: &reqwest::Client) -> Result<(), SendError> {
        check_response(http.post(&self.url).json(&payload(n, self.max_alerts)).send().await).await
    }
}

/// The webhook body: `version`, `groupKey`, `truncatedAlerts`, `status`, `receiver`,
/// `groupLabels`, `commonLabels`, `commonAnnotations`, `externalURL`, `alerts`.
pub fn payload(n: &Notification, max_alerts: usize) -> Value {
    let keep = if max_alerts == 0 { n.alerts.len() } else { max_alerts.min(n.alerts.len()) };
    let alerts: Vec<Value> = n.alerts[..keep]
        .iter()
        .map(|a| {
            json!({
                "status": n.alert_status(a),
                "labels": a.labels,
                "annotations": a.annotations,
                "startsAt": a.starts_at,
                // Alertmanager writes Go's zero time for an alert still firing.
                "endsAt": if a.resolved(n.now) { a.ends_at.to_string() } else { "0001-01-01T00:00:00Z".to_string() },
                "generatorURL": a.generator_url,
                "fingerprint": a.fingerprint_hex(),
            })
        })
        .collect();
    json!({
        "version": "4",
        "groupKey": n.group_key,
        "truncatedAlerts": n.alerts.len() - keep,
        "status": n.status(),
        "receiver": n.receiver,
        "groupLabels": n.group_labels,
        "commonLabels": n.common_labels,
        "commonAnnotations": n.common_annotations,
        "externalURL": n.external_url,
        "alerts": alerts,
    })
}
