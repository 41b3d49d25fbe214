//! A real `bitacora` process on a loopback port with its own data directory.

#![allow(dead_code)]

pub mod peers;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub addr: String,
    pub port: u16,
    pub dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    /// Starts a server on a fresh data directory.
    pub fn start(env: &[(&str, &str)]) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let mut s = Server::start_in(&dir, env);
        s._tmp = Some(tmp);
        s
    }

    /// Starts a server on an existing data directory (after a crash, say).
    pub fn start_in(dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::launch("server", dir, free_port(), env)
    }

    /// Starts `bitacora MODE` (server or run) on a given directory and port.
    pub fn launch(mode: &str, dir: &Path, port: u16, env: &[(&str, &str)]) -> Server {
        Server::launch_limited(mode, dir, port, env, None)
    }

    /// Like `launch`, with the soft and hard open-file limits set to `nofile` (`ulimit -n`).
    pub fn launch_limited(mode: &str, dir: &Path, port: u16, env: &[(&str, &str)], nofile: Option<u64>) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bitacora"));
        if let Some(n) = nofile {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit { rlim_cur: n, rlim_max: n };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        // `mode` may carry flags of its own (`server --role query`).
        cmd.args(mode.split_whitespace())
            .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(dir)
            .env("BITACORA_LOG_LEVEL", "warn")
            // Tests push old and bursty data; Loki's defaults are exercised by their own tests.
            .env("BITACORA_LIMITS__INGESTION_RATE_MB", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start bitacora");
        let s = Server { child, addr: format!("http://127.0.0.1:{port}"), port, dir: dir.to_path_buf(), _tmp: None };
        s.wait_ready();
        s
    }

    pub fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if ready(self.port) {
                return;
            }
            assert!(Instant::now() < deadline, "server did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.addr)
    }

    /// The number of file descriptors the server has open.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).map(|d| d.count()).unwrap_or(0)
    }

    /// SIGKILL, no chance to flush.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        unsafe_sigterm(self.child.id());
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unsafe_sigterm(pid: u32) {
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
}

/// `GET /ready` over a plain socket (no async runtime needed): true on 200.
fn ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
    if c.write_all(b"GET /ready HTTP/1.0\r\nHost: x\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = c.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

/// Now in nanoseconds.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64
}

/// An HTTP client for one server.
#[derive(Clone)]
pub struct Http {
    pub base: String,
    pub c: ::reqwest::Client,
}

impl Http {
    pub fn new(base: &str) -> Http {
        Http { base: base.to_string(), c: ::reqwest::Client::new() }
    }

    pub async fn post(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> (u16, String) {
        let mut r = self.c.post(format!("{}{path}", self.base)).body(body);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let resp = r.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    pub async fn push_json(&self, body: &serde_json::Value) -> (u16, String) {
        self.post("/loki/api/v1/push", &[("Content-Type", "application/json")], serde_json::to_vec(body).unwrap()).await
    }

    pub async fn get(&self, path: &str, params: &[(&str, &str)]) -> (u16, String) {
        let resp = self.c.get(format!("{}{path}", self.base)).query(params).send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    pub async fn get_json(&self, path: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let (status, text) = self.get(path, params).await;
        assert_eq!(status, 200, "GET {path} {params:?}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    /// Every line of a log query between two times, oldest first, paging forward.
    pub async fn all_lines(&self, query: &str, start: i64, end: i64) -> Vec<(i64, String)> {
        let mut out: Vec<(i64, String)> = Vec::new();
        let mut from = start;
        loop {
            let v = self
                .get_json(
                    "/loki/api/v1/query_range",
                    &[
                        ("query", query),
                        ("start", &from.to_string()),
                        ("end", &end.to_string()),
                        ("limit", "5000"),
                        ("direction", "forward"),
                    ],
                )
                .await;
            let mut page: Vec<(i64, String)> = Vec::new();
            for s in v["data"]["result"].as_array().unwrap() {
                for e in s["values"].as_array().unwrap() {
                    page.push((e[0].as_str().unwrap().parse().unwrap(), e[1].as_str().unwrap().to_string()));
                }
            }
            page.sort();
            let n = page.len();
            if n == 0 {
                break;
            }
            let last = page.last().unwrap().0;
            // Entries at the last timestamp may continue on the next page: take them again there.
            if n == 5000 {
                page.retain(|e| e.0 < last);
                assert!(!page.is_empty(), "more than 5000 entries share one timestamp");
                from = last;
            }
            out.extend(page);
            if n < 5000 {
                break;
            }
        }
        out
    }
}
