//! Real servers beside Bitácora for the alerting tests: Prometheus (remote write receiver),
//! Alertmanager, an SMTP server (aiosmtpd) and a webhook receiver that records what it gets.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::free_port;

/// Whether `bin` is installed; in CI a missing one fails the test instead.
pub fn have(bin: &str, what: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs {bin} ({what}): scripts/test.sh installs it");
        eprintln!("SKIPPED: {bin} is not installed ({what}); scripts/test.sh installs it");
    }
    ok
}

/// Whether Python can import `module`; in CI a missing one fails the test.
pub fn have_python(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs the Python module {module}");
        eprintln!("SKIPPED: python3 cannot import {module}; pip install it");
    }
    ok
}

/// A child process killed with its directory when dropped.
pub struct Peer {
    pub child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_http(url: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !get_ok(url) {
        assert!(Instant::now() < deadline, "{what} did not come up at {url}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A GET over a plain socket: true when the answer is 200.
fn get_ok(url: &str) -> bool {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let Ok(mut c) = std::net::TcpStream::connect(host) else { return false };
    let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
    if c.write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes()).is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = c.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

/// Starts `bin` with its configuration file (`config` written as `file`), its storage flag
/// pointing into a fresh directory, on a free loopback port, and waits for `/-/ready`.
fn spawn_peer(bin: &str, file: &str, config: &str, storage_flag: &str, extra: &[&str]) -> Peer {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join(file);
    std::fs::write(&cfg, config).unwrap();
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("{storage_flag}={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {bin}: {e}"));
    let url = format!("http://127.0.0.1:{port}");
    wait_http(&format!("{url}/-/ready"), bin);
    Peer { child, url, dir }
}

/// Debian's Prometheus with its remote write receiver on.
pub fn prometheus() -> Peer {
    let config = "global:\n  scrape_interval: 1m\n";
    spawn_peer("prometheus", "prometheus.yml", config, "--storage.tsdb.path", &["--web.enable-remote-write-receiver"])
}

/// Debian's Prometheus scraping `target` (`host:port`, its `/metrics`) every second as job
/// `bitacora`.
pub fn prometheus_scraping(target: &str) -> Peer {
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: bitacora\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['{target}']\n"
    );
    spawn_peer("prometheus", "prometheus.yml", &config, "--storage.tsdb.path", &[])
}

/// Debian's Alertmanager with `config` (YAML), clustering off.
pub fn alertmanager(config: &str) -> Peer {
    spawn_peer("prometheus-alertmanager", "alertmanager.yml", config, "--storage.path", &["--cluster.listen-address="])
}

/// aiosmtpd on a loopback port; what it receives is in [`Smtp::messages`].
pub struct Smtp {
    pub peer: Peer,
    pub port: u16,
    out: PathBuf,
}

impl Smtp {
    pub fn start() -> Smtp {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mail.jsonl");
        let port = free_port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/smtp_sink.py");
        let mut child = Command::new("python3")
            .args([script, &port.to_string()])
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server");
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        Smtp { peer: Peer { child, url: format!("127.0.0.1:{port}"), dir }, port, out }
    }

    /// Every message so far: envelope sender, recipients and the whole message.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// An HTTP receiver that keeps every JSON body posted to it, by path.
#[derive(Clone)]
pub struct Hook {
    pub base: String,
    got: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
}

impl Hook {
    pub async fn start() -> Hook {
        let got: Arc<Mutex<Vec<(String, serde_json::Value)>>> = Arc::default();
        let keep = got.clone();
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::body::Bytes| {
            let keep = keep.clone();
            async move {
                let v = serde_json::from_slice(&body)
                    .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()));
                keep.lock().unwrap().push((uri.path().to_string(), v));
                "ok"
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Hook { base, got }
    }

    /// The bodies posted to `path` so far.
    pub fn bodies(&self, path: &str) -> Vec<serde_json::Value> {
        self.got.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, v)| v.clone()).collect()
    }
}

/// Polls `f` every 200 ms until it gives `Some`, or fails with `what` after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
