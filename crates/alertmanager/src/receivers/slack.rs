//! Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat, Discord's `/slack`
//! endpoint): a message with one attachment, titled like Alertmanager's default.

use serde_json::{Value, json};

use super::{SendError, check_response};
use crate::config::{Global, SlackConfig};
use crate::notification::Notification;
use crate::template::render;

pub struct Slack {
    url: String,
    cfg: SlackConfig,
}

impl Slack {
    pub fn new(c: &SlackConfig, g: &Global) -> Self {
        let url = c.api_url.as_ref().or(g.slack_api_url.as_ref()).map(|u| u.expose().to_string()).unwrap_or_default();
        Slack { url, cfg: c.clone() }
    }

    /// The URL with its path (which holds the token) masked.
    pub fn target(&self) -> String {
        let rest = self.url.find("://").map_or(0, |i| i + 3);
        match self.url[rest..].find('/') {
            Some(p) => format!("{}/{}", &self.url[..rest + p], model::secret::MASK),
            None => self.url.clone(),
        }
    }

    pub fn payload(&self, n: &Notification) -> Value {
        let c = &self.cfg;
        let title = c.title.as_deref().map(|t| render(t, n)).unwrap_or_else(|| n.subject());
        let text = match c.text.as_deref() {
            Some(t) => render(t, n),
            None => n.alerts.iter().map(|a| format!("• {}", n.alert_line(a))).collect::<Vec<_>>().join("\n"),
        };
        let mut att = json!({
            "title": title,
            "text": text,
            "fallback": format!("{title}\n{text}"),
            "color": if n.status() == "firing" { "danger" } else { "good" },
            "mrkdwn_in": ["fallback", "pretext", "text"],
        });
        let link = c.title_link.as_deref().map(|t| render(t, n)).unwrap_or_else(|| n.external_url.clone());
        if !link.is_empty() {
            att["title_link"] = json!(link);
        }
        let mut body = json!({ "attachments": [att] });
        for (k, v) in [
            ("channel", &c.channel),
            ("username", &c.username),
            ("icon_emoji", &c.icon_emoji),
            ("icon_url", &c.icon_url),
        ] {
            if let Some(v) = v {
                body[k] = json!(v);
            }
        }
        body
    }

    pub async fn send(&self, n: &Notification, http: &reqwest::Client) -> Result<(), SendError> {
        check_response(http.post(&self.url).json(&self.payload(n)).send().await).await
    }
}
