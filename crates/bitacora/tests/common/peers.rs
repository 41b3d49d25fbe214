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

/// A single Garage node on loopback (`scripts/garage.sh`), with a bucket `logs` and a key.
pub struct Garage {
    pub dir: tempfile::TempDir,
    pub env: std::collections::HashMap<String, String>,
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl Garage {
    /// Starts one, or `None` (and says why) where Garage is not built; in CI that fails.
    pub fn start() -> Option<Garage> {
        let bin = std::env::var("GARAGE_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|_| workspace_root().join("target/garage/bin/garage"));
        if !bin.exists() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI needs Garage at {} (scripts/test.sh builds it: scripts/garage.sh build)",
                bin.display()
            );
            eprintln!("SKIPPED: Garage is not built at {} (scripts/garage.sh build)", bin.display());
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(workspace_root().join("scripts/garage.sh"))
            .arg("start")
            .arg(dir.path())
            .env("GARAGE_BIN", &bin)
            .output()
            .expect("run scripts/garage.sh");
        assert!(out.status.success(), "garage.sh start: {}", String::from_utf8_lossy(&out.stderr));
        let env = std::fs::read_to_string(dir.path().join("env"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
            .collect();
        Some(Garage { dir, env })
    }

    fn script(&self, what: &str) {
        let st = Command::new(workspace_root().join("scripts/garage.sh"))
            .arg(what)
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(st.success(), "garage.sh {what}");
    }

    /// Stops the node (the bucket becomes unreachable).
    pub fn stop(&self) {
        self.script("stop");
    }

    /// Starts it again with the same data.
    pub fn restart(&self) {
        self.script("restart");
    }

    /// The settings that point a Bitácora at this bucket, as `BITACORA_*` variables.
    pub fn bitacora_env(&self, prefix: &str, node: &str) -> Vec<(String, String)> {
        let o = "BITACORA_STORE__OBJECT_STORE__";
        vec![
            (format!("{o}BUCKET"), self.env["S3_BUCKET"].clone()),
            (format!("{o}ENDPOINT"), self.env["S3_ENDPOINT"].clone()),
            (format!("{o}REGION"), self.env["S3_REGION"].clone()),
            (format!("{o}ACCESS_KEY_ID"), self.env["S3_ACCESS_KEY_ID"].clone()),
            (format!("{o}SECRET_ACCESS_KEY"), self.env["S3_SECRET_ACCESS_KEY"].clone()),
            (format!("{o}PREFIX"), prefix.to_string()),
            ("BITACORA_CLUSTER__NODE_ID".to_string(), node.to_string()),
        ]
    }

    /// A client on the writer `node`'s objects (to look at the bucket from outside).
    pub fn client(&self, prefix: &str, node: &str) -> bucket::Bucket {
        let cfg = store::ObjectStoreConfig {
            bucket: self.env["S3_BUCKET"].clone(),
            endpoint: self.env["S3_ENDPOINT"].clone(),
            region: self.env["S3_REGION"].clone(),
            access_key_id: self.env["S3_ACCESS_KEY_ID"].clone(),
            secret_access_key: self.env["S3_SECRET_ACCESS_KEY"].clone(),
            prefix: prefix.to_string(),
            ..Default::default()
        };
        bucket::Bucket::new(&cfg, node).unwrap()
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        let _ = Command::new(workspace_root().join("scripts/garage.sh"))
            .arg("stop")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .status();
    }
}
