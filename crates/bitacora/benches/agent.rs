//! Agent benchmark (not a test), against the real Docker engine (scripts/docker-setup.sh):
//! 1. CPU per line: a container writes 1,000,000 lines to its json-file; `bitacora agent` ships
//!    them to a `bitacora server`; agent CPU seconds and peak RSS are read from /proc, beside
//!    `cat` and `grep -F -c` over the same json-file in the same run.
//! 2. Write-to-query latency through `bitacora run`: a container writes a line every 250 ms; each
//!    line's Docker timestamp is compared with the moment a query first returns it (p50, p95).
//!
//! Run: `cargo bench --bench agent` (env BENCH_LINES to change the size).

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn proc_stat(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<&str> = stat.rsplit_once(')').map(|x| x.1).unwrap_or("").split_whitespace().collect();
    let cpu = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (cpu / 100.0, hwm)
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_ready(port: u16) {
    let t = Instant::now();
    while Command::new("curl")
        .args(["-sf", &format!("http://127.0.0.1:{port}/ready")])
        .stdout(Stdio::null())
        .status()
        .map(|s| !s.success())
        .unwrap_or(true)
    {
        assert!(t.elapsed() < Duration::from_secs(20), "server not ready");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn metric(port: u16, name: &str) -> f64 {
    let out = Command::new("curl").args(["-s", &format!("http://127.0.0.1:{port}/metrics")]).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn main() {
    let n: usize = std::env::var("BENCH_LINES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let tag = format!("bench-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_bitacora");

    // 1. Agent CPU per line over a finished container's json-file.
    let name = format!("{tag}-writer");
    let line = "GET /api/v1/orders?page=2 200 1532b 12ms user=42 agent=Mozilla/5.0 req=7f3a9c2e trace=ab12cd34";
    docker(&[
        "run",
        "--name",
        &name,
        "--label",
        "com.dokku.app-name=bench",
        "bitacora-test:busybox",
        "sh",
        "-c",
        &format!("yes '{line}' | head -n {n}"),
    ]);
    let log_path = docker(&["inspect", "-f", "{{.LogPath}}", &name]);
    let bytes = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
    let t = Instant::now();
    let _ = Command::new("cat").arg(&log_path).stdout(Stdio::null()).status();
    let cat_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let _ = Command::new("grep").args(["-F", "-c", "trace=ab12cd34"]).arg(&log_path).stdout(Stdio::null()).status();
    let grep_secs = t.elapsed().as_secs_f64();

    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Command::new(bin)
        .args(["server", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data.path())
        .env("BITACORA_LIMITS__INGESTION_RATE_MB", "0")
        .env("BITACORA_LOG_LEVEL", "warn")
        .spawn()
        .unwrap();
    wait_ready(port);
    let mport = free_port();
    let mut agent = Command::new(bin)
        .args([
            "agent",
            "--push-url",
            &format!("http://127.0.0.1:{port}/loki/api/v1/push"),
            "--metrics-listen",
            &format!("127.0.0.1:{mport}"),
            "--positions",
        ])
        .arg(data.path().join("agent-positions.json"))
        .env("BITACORA_AGENT__INCLUDE_CONTAINERS", format!("{tag}-.*"))
        .env("BITACORA_LOG_LEVEL", "warn")
        .spawn()
        .unwrap();
    let t = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let sent = metric(mport, "bitacora_agent_lines_sent_total");
        if sent as usize >= n || t.elapsed() > Duration::from_secs(300) {
            break;
        }
    }
    let wall = t.elapsed().as_secs_f64();
    let (cpu, hwm) = proc_stat(agent.id());
    let sent = metric(mport, "bitacora_agent_lines_sent_total");
    let _ = agent.kill();
    let _ = server.kill();
    let _ = agent.wait();
    let _ = server.wait();
    docker(&["rm", "-f", &name]);

    // 2. Write-to-query latency through `bitacora run`.
    let data2 = tempfile::tempdir().unwrap();
    let port2 = free_port();
    let mut run = Command::new(bin)
        .args(["run", "--listen", &format!("127.0.0.1:{port2}"), "--data-dir"])
        .arg(data2.path())
        .env("BITACORA_AGENT__INCLUDE_CONTAINERS", format!("{tag}-.*"))
        .env("BITACORA_LOG_LEVEL", "warn")
        .spawn()
        .unwrap();
    wait_ready(port2);
    let lat_name = format!("{tag}-latency");
    docker(&[
        "run",
        "-d",
        "--name",
        &lat_name,
        "--label",
        "com.dokku.app-name=latency",
        "bitacora-test:busybox",
        "sh",
        "-c",
        "i=0; while [ $i -lt 80 ]; do echo \"tick $i\"; i=$((i+1)); usleep 250000; done",
    ]);
    let client = reqwest::blocking_client();
    let mut first_seen: HashMap<String, Instant> = HashMap::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) && first_seen.len() < 80 {
        let url = format!(
            "http://127.0.0.1:{port2}/loki/api/v1/query_range?query=%7Bapp%3D%22latency%22%7D&since=2m&limit=5000"
        );
        if let Ok(out) = client(&url) {
            let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
            let now = Instant::now();
            for s in v["data"]["result"].as_array().into_iter().flatten() {
                for e in s["values"].as_array().into_iter().flatten() {
                    first_seen.entry(e[1].as_str().unwrap_or("").to_string()).or_insert(now);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Docker's timestamp of each line, from its json-file.
    let log2 = docker(&["inspect", "-f", "{{.LogPath}}", &lat_name]);
    let text = std::fs::read_to_string(&log2).unwrap_or_default();
    let now_sys = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
    let now_inst = Instant::now();
    let mut lat: Vec<f64> = Vec::new();
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let msg = v["log"].as_str().unwrap().trim_end().to_string();
        let ts = agent::jsonfile::parse_time(v["time"].as_str().unwrap()).unwrap();
        if let Some(seen) = first_seen.get(&msg) {
            let seen_sys = now_sys - now_inst.duration_since(*seen).as_nanos() as i64;
            lat.push((seen_sys - ts) as f64 / 1e6);
        }
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied().unwrap_or(f64::NAN)
    };
    let _ = run.kill();
    let _ = run.wait();
    docker(&["rm", "-f", &lat_name]);

    println!();
    println!("| measure | bitácora agent | reference (same json-file, same run) |");
    println!("|---|---|---|");
    println!(
        "| json-file → push, lines per agent CPU-second | {:.0} ({sent:.0} lines, {cpu:.2} s CPU, {wall:.1} s wall, {:.1} MB) | `cat`: {:.0} lines/s; `grep -F -c`: {:.0} lines/s |",
        sent / cpu.max(1e-9),
        bytes as f64 / 1e6,
        n as f64 / cat_secs,
        n as f64 / grep_secs
    );
    println!("| agent peak RSS | {:.1} MiB | |", hwm as f64 / 1024.0);
    println!(
        "| write → query latency via `bitacora run` ({} lines) | p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms | |",
        lat.len(),
        pct(0.5),
        pct(0.95),
        lat.last().copied().unwrap_or(f64::NAN)
    );
}

mod reqwest {
    /// A minimal blocking GET over curl, to keep the benchmark free of an async runtime.
    pub fn blocking_client() -> impl Fn(&str) -> Result<String, ()> {
        |url: &str| {
            let out = std::process::Command::new("curl").args(["-s", url]).output().map_err(|_| ())?;
            Ok(String::from_utf8_lossy(&out.stdout).to_string())
        }
    }
}
