//! E-mail notifications delivered to a real SMTP server (aiosmtpd), with and without AUTH.

mod common;

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{get_json, post_alerts, serve};
use serde_json::{Value, json};

struct Smtp {
    child: Child,
    port: u16,
    out: std::path::PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_smtp(dir: &std::path::Path, auth: bool) -> Smtp {
    let port = free_port();
    let out = dir.join("mail.jsonl");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_server.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(port.to_string()).arg(&out);
    if auth {
        cmd.arg("auth");
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn().expect("python3");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    Smtp { child, port, out }
}

async fn wait_mail(path: &std::path::Path, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(path) {
            let v: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            if v.len() >= n {
                return v;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("expected {n} mails in {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_with_and_without_auth() {
    if !common::require("aiosmtpd", "pip install aiosmtpd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = start_smtp(&dir.path().join(""), false);
    let authdir = dir.path().join("auth");
    std::fs::create_dir_all(&authdir).unwrap();
    let authed = start_smtp(&authdir, true);
    let cfg = format!(
        "global:\n  smtp_smarthost: '127.0.0.1:{}'\n  smtp_from: 'Bitácora <alerts@example.org>'\n  smtp_require_tls: false\n\
         route:\n  receiver: mail\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n\
         receivers:\n  - name: mail\n    email_configs:\n      - to: 'ops@example.org, dev@example.org'\n        send_resolved: true\n        headers: {{X-Team: '{{{{ .CommonLabels.team }}}}'}}\n\
         \x20     - to: 'boss@example.org'\n        smarthost: '127.0.0.1:{}'\n        auth_username: bob\n        auth_password: secret\n\
         \x20 - name: badauth\n    email_configs:\n      - to: 'x@example.org'\n        smarthost: '127.0.0.1:{}'\n        auth_username: bob\n        auth_password: wrong\n",
        plain.port, authed.port, authed.port
    );
    let s = serve(dir.path(), &cfg).await;
    post_alerts(
        &s.base,
        json!([{"labels": {"alertname": "DiskFull", "team": "infra", "instance": "db1"},
                "annotations": {"summary": "disk on db1 is full", "description": "99% used"}}]),
    )
    .await;
    let mails = wait_mail(&plain.out, 1).await;
    let m = &mails[0];
    assert_eq!(m["mail_from"], "alerts@example.org");
    assert_eq!(m["rcpt_tos"], json!(["ops@example.org", "dev@example.org"]));
    let data = m["data"].as_str().unwrap();
    assert!(data.contains("Subject: [FIRING:1] DiskFull (db1 infra)"), "{data}");
    assert!(data.contains("X-Team: infra"), "{data}");
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(data.contains("text/plain") && data.contains("text/html"), "{data}");
    assert!(data.contains("disk on db1 is full"), "{data}");
    let mails = wait_mail(&authed.out, 1).await;
    assert_eq!(mails[0]["rcpt_tos"], json!(["boss@example.org"]));
    assert_eq!(mails[0]["login"], "bob");

    // Resolved: only the integration with send_resolved hears of it.
    post_alerts(
        &s.base,
        json!([{"labels": {"alertname": "DiskFull", "team": "infra", "instance": "db1"},
                "endsAt": (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1)).to_string()}]),
    )
    .await;
    let mails = wait_mail(&plain.out, 2).await;
    assert!(mails[1]["data"].as_str().unwrap().contains("Subject: [RESOLVED] DiskFull (db1 infra)"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(wait_mail(&authed.out, 1).await.len(), 1);

    // Wrong credentials: the test notification reports the server's refusal.
    let r =
        reqwest::Client::new().post(format!("{}/api/alerting/receivers/badauth/test", s.base)).send().await.unwrap();
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    assert!(body["results"][0]["error"].as_str().unwrap().contains("SMTP"), "{body}");
    let recv = get_json(&format!("{}/api/alerting/receivers", s.base)).await;
    let mail = &recv.as_array().unwrap().iter().find(|r| r["name"] == "mail").unwrap()["integrations"];
    assert_eq!(mail[0]["type"], "email");
    assert!(mail[0]["target"].as_str().unwrap().contains("ops@example.org"));
    assert_eq!(mail[0]["sent"], 2);
    s.notifier.shutdown().await;
}
