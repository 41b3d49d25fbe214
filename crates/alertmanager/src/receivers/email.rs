//! E-mail over SMTP with lettre: STARTTLS when the server offers it (required with
//! `require_tls`), implicit TLS on port 465, AUTH PLAIN/LOGIN when credentials are given; the
//! subject is Alertmanager's default, the body plain text plus HTML.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::SendError;
use crate::config::{EmailConfig, Global};
use crate::notification::Notification;
use crate::template::render;

pub struct Email {
    host: String,
    port: u16,
    from: Mailbox,
    to: Vec<Mailbox>,
    hello: Option<String>,
    creds: Option<Credentials>,
    require_tls: bool,
    headers: Vec<(String, String)>,
    subject: Option<String>,
}

fn mailboxes(s: &str) -> Result<Vec<Mailbox>, String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| x.parse().map_err(|e| format!("address {x:?}: {e}")))
        .collect()
}

impl Email {
    pub fn new(c: &EmailConfig, g: &Global) -> Result<Self, String> {
        let smarthost = c.smarthost.as_ref().or(g.smtp_smarthost.as_ref()).ok_or("smarthost: missing")?;
        let (host, port) = smarthost
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_matches(['[', ']']).to_string(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| format!("smarthost: {smarthost:?} is not host:port"))?;
        let mut to_field = c.to.clone();
        let mut from_field = c.from.clone().or(g.smtp_from.clone()).ok_or("from: missing")?;
        let mut subject = None;
        let mut headers = Vec::new();
        for (k, v) in &c.headers {
            match k.to_ascii_lowercase().as_str() {
                "to" => to_field = v.clone(),
                "from" => from_field = v.clone(),
                "subject" => {
                    crate::template::check(v).map_err(|e| format!("headers.Subject: {e}"))?;
                    subject = Some(v.clone());
                }
                _ => {
                    HeaderName::new_from_ascii(k.clone()).map_err(|_| format!("headers: invalid header name {k:?}"))?;
                    crate::template::check(v).map_err(|e| format!("headers.{k}: {e}"))?;
                    headers.push((k.clone(), v.clone()));
                }
            }
        }
        let from = from_field.parse().map_err(|e| format!("from: {from_field:?}: {e}"))?;
        let to = mailboxes(&to_field).map_err(|e| format!("to: {e}"))?;
        if to.is_empty() {
            return Err("to: no address".into());
        }
        let user = c.auth_username.clone().or(g.smtp_auth_username.clone());
        let pass = c.auth_password.clone().or(g.smtp_auth_password.clone());
        let creds = user.map(|u| Credentials::new(u, pass.map(|p| p.expose().to_string()).unwrap_or_default()));
        Ok(Email {
            host,
            port,
            from,
            to,
            hello: c.hello.clone().or(g.smtp_hello.clone()),
            creds,
            require_tls: c.require_tls.unwrap_or(g.smtp_require_tls),
            headers,
            subject,
        })
    }

    pub fn target(&self) -> String {
        let to: Vec<String> = self.to.iter().map(|m| m.email.to_string()).collect();
        format!("{} via {}:{}", to.join(", "), self.host, self.port)
    }

    fn message(&self, n: &Notification) -> Result<Message, SendError> {
        let subject = self.subject.as_deref().map(|s| render(s, n)).unwrap_or_else(|| n.subject());
        let mut b = Message::builder().from(self.from.clone()).subject(subject);
        for t in &self.to {
            b = b.to(t.clone());
        }
        for (k, v) in &self.headers {
            if let Ok(name) = HeaderName::new_from_ascii(k.clone()) {
                b = b.raw_header(HeaderValue::new(name, render(v, n)));
            }
        }
        b.multipart(MultiPart::alternative_plain_html(n.text_body(), n.html_body()))
            .map_err(|e| SendError { message: format!("cannot build the message: {e}"), retry: false })
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
        let params = TlsParameters::new(self.host.clone())
            .map_err(|e| SendError { message: format!("TLS setup: {e}"), retry: false })?;
        let tls = if self.port == 465 {
            Tls::Wrapper(params)
        } else if self.require_tls {
            Tls::Required(params)
        } else {
            Tls::Opportunistic(params)
        };
        let mut t = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone())
            .port(self.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(20)));
        if let Some(h) = &self.hello {
            t = t.hello_name(ClientId::Domain(h.clone()));
        }
        if let Some(c) = &self.creds {
            t = t.credentials(c.clone()).authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(t.build())
    }

    pub async fn send(&self, n: &Notification) -> Result<(), SendError> {
        let msg = self.message(n)?;
        let t = self.transport()?;
        match t.send(msg).await {
            Ok(_) => Ok(()),
            Err(e) => {
                Err(SendError { message: format!("SMTP {}:{}: {e}", self.host, self.port), retry: !e.is_permanent() })
            }
        }
    }
}
