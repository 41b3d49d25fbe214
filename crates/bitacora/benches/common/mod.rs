//! What the benchmarks share: the Loghub corpus, replays with varied digits, a release server
//! on a loopback port, its CPU and memory from /proc, and Promtail-style push batches.
#![allow(dead_code)]

pub mod loki;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api::proto;
use prost::Message;

/// (app, lines) per Loghub file.
pub struct Corpus {
    pub files: Vec<(String, Vec<String>)>,
}

pub fn load_corpus() -> Corpus {
    let dir = std::env::var("BITACORA_CORPUS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/loghub").into());
    let mut files = Vec::new();
    let mut entries: Vec<_> =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus at {dir}: {e}")).flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(app) = name.strip_suffix("_2k.log") {
            let text = std::fs::read_to_string(e.path()).unwrap();
            files.push((app.to_lowercase(), text.lines().map(String::from).collect()));
        }
    }
    Corpus { files }
}

/// A small deterministic generator (PCG-style), so corpora are the same in every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Deterministically varies the digits of a line for replay `r`, so replays are not byte copies.
pub fn vary(line: &str, r: usize, salt: usize) -> String {
    let mut x = (r as u64).wrapping_mul(6364136223846793005).wrapping_add(salt as u64 | 1);
    line.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                if (x >> 60) < 3 { char::from(b'0' + ((x >> 33) % 10) as u8) } else { c }
            } else {
                c
            }
        })
        .collect()
}

/// (cpu seconds, VmRSS kB, VmHWM kB) of a process.
pub fn proc_stat(pid: u32) -> (f64, u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let f: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let tick = 100.0;
    let cpu = (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) / tick;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (cpu, kb("VmRSS:"), kb("VmHWM:"))
}

/// CPU seconds (user + system) this process and its waited-for children used so far.
pub fn self_cpu() -> (f64, f64) {
    let get = |who| {
        let mut u: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: getrusage writes into the struct it is given.
        unsafe { libc::getrusage(who, &mut u) };
        let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
        t(u.ru_utime) + t(u.ru_stime)
    };
    (get(libc::RUSAGE_SELF), get(libc::RUSAGE_CHILDREN))
}

pub fn dir_bytes(p: &Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            // Gone since the listing (compaction removes its inputs while this measures).
            let Ok(m) = e.metadata() else { continue };
            n += if m.is_dir() { dir_bytes(&e.path()) } else { m.len() };
        }
    }
    n
}

pub struct Srv {
    pub child: std::process::Child,
    pub addr: String,
    pub dir: std::path::PathBuf,
}

impl Drop for Srv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A release `bitacora server` on a free loopback port over `dir`, with extra environment
/// (`BENCH_BITACORA_BIN` runs another build instead, to compare two builds on the same batches).
pub fn start_server_in(dir: &Path, env: &[(&str, &str)]) -> Srv {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let bin = std::env::var("BENCH_BITACORA_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_bitacora").to_string());
    let mut cmd = Command::new(bin);
    cmd.args(["server", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .env("BITACORA_LOG_LEVEL", "warn")
        .env("BITACORA_LIMITS__INGESTION_RATE_MB", "0")
        .env("BITACORA_LIMITS__MAX_GLOBAL_STREAMS_PER_USER", "0")
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let addr = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Command::new("curl")
        .args(["-sf", &format!("{addr}/ready")])
        .stdout(Stdio::null())
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "server not ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    Srv { child, addr, dir: dir.to_path_buf() }
}

/// Batches of (labels, [(ts, line)]) encoded as Promtail sends them (protobuf + snappy).
pub fn encode_batch(batch: &[(String, Vec<(i64, String)>)]) -> Vec<u8> {
    let req = proto::PushRequest {
        streams: batch
            .iter()
            .map(|(labels, es)| proto::StreamAdapter {
                labels: labels.clone(),
                entries: es
                    .iter()
                    .map(|(ts, l)| proto::EntryAdapter {
                        timestamp: Some(proto::Timestamp {
                            seconds: ts / 1_000_000_000,
                            nanos: (ts % 1_000_000_000) as i32,
                        }),
                        line: l.clone(),
                        structured_metadata: vec![],
                        parsed: vec![],
                    })
                    .collect(),
                hash: 0,
            })
            .collect(),
        format: String::new(),
    };
    snap::raw::Encoder::new().compress_vec(&req.encode_to_vec()).unwrap()
}

/// Pushes `batches` as two clients do, as fast as the server takes them, then asks it to flush.
pub fn push_all(rt: &tokio::runtime::Runtime, client: &reqwest::Client, addr: &str, batches: Vec<Vec<u8>>) {
    let queue = std::sync::Arc::new(std::sync::Mutex::new(batches.into_iter()));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let (q, c, addr) = (queue.clone(), client.clone(), addr.to_string());
            tasks.push(tokio::spawn(async move {
                loop {
                    let Some(b) = q.lock().unwrap().next() else { break };
                    let r = c
                        .post(format!("{addr}/loki/api/v1/push"))
                        .header("Content-Type", "application/x-protobuf")
                        .body(b)
                        .send()
                        .await
                        .unwrap();
                    let status = r.status().as_u16();
                    assert_eq!(status, 204, "{}", r.text().await.unwrap_or_default());
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let r = client.post(format!("{addr}/flush")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 204);
    });
}
