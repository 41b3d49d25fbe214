//! ntfy: the text POSTed to the topic URL with `Title`, `Priority` and `Tags` headers (non-ASCII
//! header values as RFC 2047 encoded words, which ntfy decodes).

use base64::Engine;

use super::{SendError, check_response};
use crate::config::NtfyConfig;
use crate::notification::Notification;

pub struct Ntfy {
    url: String,
    token: Option<String>,
    priority: Option<String>,
}

fn header_value(s: &str) -> String {
    if s.is_ascii() && !s.contains(['\r', '\n']) {
        s.to_string()
    } else {
        format!("=?UTF-8?B?{}?=", base64::engine::general_purpose::STANDARD.encode(s.replace(['\r', '\n'], " ")))
    }
}

impl Ntfy {
    pub fn new(c: &NtfyConfig) -> Self {
        Ntfy {
            url: c.url.expose().to_string(),
            token: c.token.as_ref().map(|t| t.expose().to_string()),
            priority: c.priority.clone(),
        }
    }

    pub async fn send(&self, n: &Notification, http: &reqwest::Client) -> Result<(), SendError> {
        let firing = n.status() == "firing";
        let priority = self.priority.clone().unwrap_or_else(|| if firing { "high" } else { "default" }.into());
        let tags = if firing { "rotating_light" } else { "white_check_mark" };
        let mut req = http
            .post(&self.url)
            .header("Title", header_value(&n.subject()))
            .header("Priority", priority)
            .header("Tags", tags)
            .body(n.text_body());
        if !n.external_url.is_empty() {
            req = req.header("Click", header_value(&n.external_url));
        }
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        check_response(req.send().await).await
    }
}
