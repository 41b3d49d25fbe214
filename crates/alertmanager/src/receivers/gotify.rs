//! Gotify: `POST <url>/message?token=<app token>` with `{title, message, priority}`.

use serde_json::json;

use super::{SendError, check_response};
use crate::config::GotifyConfig;
use crate::notification::Notification;

pub struct Gotify {
    url: String,
    token: String,
    priority: Option<i64>,
}

impl Gotify {
    pub fn new(c: &GotifyConfig) -> Self {
        Gotify {
            url: c.url.trim_end_matches('/').to_string(),
            token: c.token.expose().to_string(),
            priority: c.priority,
        }
    }

    pub async fn send(&self, n: &Notification, http: &reqwest::Client) -> Result<(), SendError> {
        let firing = n.status() == "firing";
        let body = json!({
            "title": n.subject(),
            "message": n.text_body(),
            "priority": self.priority.unwrap_or(if firing { 8 } else { 4 }),
        });
        let req = http.post(format!("{}/message", self.url)).query(&[("token", &self.token)]).json(&body);
        check_response(req.send().await).await
    }
}
