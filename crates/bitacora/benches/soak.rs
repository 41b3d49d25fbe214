//! Soak (a command, not a test): a simulated month of a Dokku host in minutes.
//!
//! `bitacora run` (store, API and agent in one process) on a small tmpfs, against the real
//! Docker engine (`scripts/docker-setup.sh`), while:
//! - apps log numbered lines steadily through json-file rotation (`max-size`);
//! - a `--restart on-failure` app crash-loops;
//! - a web app is redeployed Dokku-style every minute (`.upcoming-` container started, the old
//!   one renamed to `.<unixtime>`, the new one renamed into place, the old one stopped, and
//!   removed 45 s later, as Dokku's wait-to-retire does);
//! - `dokku run`-like one-offs come and go;
//! - HTTP pushers send lines whose clock starts 30 days back and reaches now at the end (days
//!   per minute), so retention (7 days) and compaction of closed days run many times;
//! - the server is `kill -9`ed at random moments, and the disk fills up once for 20 s.
//!
//! At the end every line written is counted against what queries return: HTTP lines newer
//! than the retention horizon exactly once, container lines exactly once (their ground truth is
//! what the containers printed: numbered lines, read back with `docker logs` before removal).
//! Every 30 s it prints RSS, open files, segments and query latency, to show their trend.
//!
//! Run as root: `scripts/soak.sh` (or `cargo bench --bench soak`; SOAK_MINUTES, default 10).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

const IMAGE: &str = "bitacora-test:busybox";
const DAY: i64 = 86_400_000_000_000;

fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn docker_quiet(args: &[&str]) {
    let _ = Command::new("docker").args(args).stdout(Stdio::null()).stderr(Stdio::null()).status();
}

/// Every line a container printed (both streams), as Docker still has them.
fn docker_logs(name: &str) -> Vec<String> {
    let out = Command::new("docker").args(["logs", name]).output().expect("docker logs");
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    v.extend(String::from_utf8_lossy(&out.stderr).lines().map(str::to_string));
    v
}

fn dokku_labels(app: &str, process: &str, dyno: &str, kind: &str) -> Vec<String> {
    vec![
        format!("--label=com.dokku.app-name={app}"),
        format!("--label=com.dokku.process-type={process}"),
        format!("--label=com.dokku.dyno={dyno}"),
        format!("--label=com.dokku.container-type={kind}"),
    ]
}

fn run_container(name: &str, labels: &[String], opts: &[&str], script: &str) {
    let mut args: Vec<&str> = vec!["run", "-d", "--name", name];
    args.extend(labels.iter().map(String::as_str));
    args.extend(opts);
    args.extend([IMAGE, "sh", "-c", script]);
    docker(&args);
}

/// Removes every container whose name starts with the soak's tag, however the soak ends.
struct RemoveContainers(String);
impl Drop for RemoveContainers {
    fn drop(&mut self) {
        let out = Command::new("docker")
            .args(["ps", "-aq", "--filter", &format!("name={}", self.0)])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
            .unwrap_or_default();
        for id in out.split_whitespace() {
            docker_quiet(&["rm", "-f", id]);
        }
    }
}

struct Tmpfs(PathBuf);
impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

struct Bitacora {
    child: Child,
}

fn start(bin: &str, dir: &Path, port: u16, cfg: &Path) -> Bitacora {
    let child = Command::new(bin)
        .args(["run", "--config"])
        .arg(cfg)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .env("BITACORA_LOG_LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start bitacora");
    let t = Instant::now();
    while !ready(port) {
        assert!(t.elapsed() < Duration::from_secs(60), "bitacora did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    Bitacora { child }
}

/// `GET /ready` over a plain socket.
fn ready(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
    if c.write_all(b"GET /ready HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut s = String::new();
    let _ = c.read_to_string(&mut s);
    s.starts_with("HTTP/1.0 200") || s.starts_with("HTTP/1.1 200")
}

fn proc_status(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Shared {
    port: AtomicU64,
    stop: AtomicBool,
    /// HTTP lines acknowledged (204): line → timestamp.
    acked: Mutex<HashMap<String, i64>>,
    refused_507: AtomicU64,
    failed_conn: AtomicU64,
}

async fn pusher(id: usize, sh: Arc<Shared>, start_data: i64, span: i64, run: Duration) {
    let c = reqwest::Client::new();
    let t0 = Instant::now();
    let mut seq = 0u64;
    while !sh.stop.load(Ordering::Relaxed) {
        // The data clock: 30 days back at the start, now at the end.
        let frac = (t0.elapsed().as_secs_f64() / run.as_secs_f64()).min(1.0);
        let ts0 = start_data + (span as f64 * frac) as i64;
        let lines: Vec<(i64, String)> = (0..50)
            .map(|i| {
                (ts0 + i * 1000, format!("soak pusher={id} seq={} level=info msg=\"order placed\"", seq + i as u64))
            })
            .collect();
        let values: Vec<_> = lines.iter().map(|(ts, l)| json!([ts.to_string(), l])).collect();
        let body = json!({"streams": [{"stream": {"app": format!("pushed-{}", id % 3), "pusher": id.to_string()}, "values": values}]});
        // Retry the same batch until it is acknowledged, as Promtail does.
        loop {
            if sh.stop.load(Ordering::Relaxed) {
                return;
            }
            let port = sh.port.load(Ordering::Relaxed);
            let r = c
                .post(format!("http://127.0.0.1:{port}/loki/api/v1/push"))
                .timeout(Duration::from_secs(10))
                .json(&body)
                .send()
                .await;
            match r.map(|r| r.status().as_u16()) {
                Ok(204) => {
                    let mut a = sh.acked.lock().unwrap();
                    for (ts, l) in &lines {
                        a.insert(l.clone(), *ts);
                    }
                    break;
                }
                Ok(507) => {
                    sh.refused_507.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Ok(s) => panic!("push answered {s}"),
                Err(_) => {
                    sh.failed_conn.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        seq += 50;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get_json(c: &reqwest::Client, port: u16, path: &str, q: &[(&str, String)]) -> serde_json::Value {
    let r = c.get(format!("http://127.0.0.1:{port}{path}")).query(q).send().await.expect("query");
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "{path} {q:?}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

/// Every line of a selector in [start, end), paging forward.
async fn all_lines(c: &reqwest::Client, port: u16, query: &str, start: i64, end: i64) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = start;
    loop {
        let v = get_json(
            c,
            port,
            "/loki/api/v1/query_range",
            &[
                ("query", query.to_string()),
                ("start", from.to_string()),
                ("end", end.to_string()),
                ("limit", "5000".into()),
                ("direction", "forward".into()),
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
        if n == 5000 {
            page.retain(|e| e.0 < last);
            from = last;
        }
        out.extend(page.into_iter().map(|e| e.1));
        if n < 5000 {
            break;
        }
    }
    out
}

async fn metric(c: &reqwest::Client, port: u16, name: &str) -> f64 {
    let Ok(r) = c.get(format!("http://127.0.0.1:{port}/metrics")).send().await else { return f64::NAN };
    let text = r.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn fill_disk(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 1 << 20];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

/// The lines containers printed: numbered lines (`<host> line <i> <pad>`) from 0 to the last
/// number Docker still has (older files were rotated away, their lines were printed all the
/// same), every other line as it is.
fn expand_numbered<'a>(lines: impl Iterator<Item = &'a String>) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut last: HashMap<(String, String), u64> = HashMap::new();
    for l in lines {
        let parts: Vec<&str> = l.split(' ').collect();
        if let [host, "line", i, pad] = parts.as_slice()
            && let Ok(i) = i.parse::<u64>()
        {
            let e = last.entry((host.to_string(), pad.to_string())).or_default();
            *e = (*e).max(i);
        } else {
            out.insert(l.clone());
        }
    }
    for ((host, pad), n) in last {
        for i in 0..=n {
            out.insert(format!("{host} line {i} {pad}"));
        }
    }
    out
}

/// Compares what was written with what was read: (missing, duplicated).
fn compare(expected: &HashSet<String>, got: &[String]) -> (usize, usize) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for l in got {
        *seen.entry(l.as_str()).or_default() += 1;
    }
    let missing_lines: Vec<&String> = expected.iter().filter(|l| !seen.contains_key(l.as_str())).collect();
    for l in missing_lines.iter().take(10) {
        eprintln!("missing: {}", &l[..l.len().min(100)]);
    }
    let missing = missing_lines.len();
    let dups = seen.values().filter(|n| **n > 1).count();
    (missing, dups)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let minutes: f64 = std::env::var("SOAK_MINUTES").ok().and_then(|v| v.parse().ok()).unwrap_or(10.0);
    let run = Duration::from_secs_f64(minutes * 60.0);
    let bin = env!("CARGO_BIN_EXE_bitacora");
    assert!(unsafe { libc::getuid() } == 0, "the soak mounts a tmpfs and drives Docker: run it as root");
    assert!(
        Command::new("docker").args(["image", "inspect", IMAGE]).stdout(Stdio::null()).status().unwrap().success(),
        "run scripts/docker-setup.sh first"
    );
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    assert!(
        Command::new("mount").args(["-t", "tmpfs", "-o", "size=384m", "tmpfs"]).arg(&mnt).status().unwrap().success()
    );
    let _fs = Tmpfs(mnt.clone());
    let dir = mnt.join("data");
    let cfg = tmp.path().join("soak.yaml");
    std::fs::write(
        &cfg,
        "store:\n  flush_bytes: 2000000\n  flush_interval: 15s\n  retention_period: 7d\n  compaction_interval: 5s\n  \
         out_of_order_window: 40d\nlimits:\n  reject_old_samples: false\n  ingestion_rate_mb: 0\n",
    )
    .unwrap();
    let port = free_port();
    let mut srv = start(bin, &dir, port, &cfg);
    let sh = Arc::new(Shared {
        port: AtomicU64::new(port as u64),
        stop: AtomicBool::new(false),
        acked: Mutex::default(),
        refused_507: AtomicU64::new(0),
        failed_conn: AtomicU64::new(0),
    });
    let t0 = Instant::now();
    let start_data = now_ns() - 30 * DAY;
    let mut tasks = Vec::new();
    for id in 0..4 {
        tasks.push(tokio::spawn(pusher(id, sh.clone(), start_data, 30 * DAY - 60_000_000_000, run)));
    }

    // Containers. Names start with soak- (the agent's include filter).
    let tag = format!("soak-{}", std::process::id());
    let _remove = RemoveContainers(tag.clone());
    let cleanup: Arc<Mutex<Vec<String>>> = Arc::default();
    let numbered =
        "i=0; while true; do echo \"$HOSTNAME line $i $(printf '%0100d' 0)\"; i=$((i+1)); usleep 20000; done";
    for app in ["soak-api", "soak-worker"] {
        let name = format!("{tag}-{app}");
        run_container(
            &name,
            &dokku_labels(app, "web", "web.1", "deploy"),
            &["--log-opt", "max-size=200k", "--log-opt", "max-file=4"],
            numbered,
        );
        cleanup.lock().unwrap().push(name);
    }
    let crash = format!("{tag}-crashy");
    run_container(
        &crash,
        &dokku_labels("soak-crashy", "web", "web.1", "deploy"),
        &["--restart", "on-failure"],
        "echo \"boot $(cat /proc/uptime)\"; echo \"failing $(cat /proc/uptime)\" >&2; sleep 2; exit 1",
    );
    cleanup.lock().unwrap().push(crash.clone());
    // Ground truth of containers already removed.
    let mut removed_truth: BTreeMap<String, Vec<String>> = BTreeMap::new();

    let mut samples: Vec<String> = Vec::new();
    let c = reqwest::Client::new();
    let mut next_sample = Instant::now();
    let mut next_deploy = Instant::now();
    let mut next_oneoff = Instant::now();
    let mut next_kill = Instant::now() + Duration::from_secs(45);
    let mut disk_full_done = false;
    let mut kills = 0;
    let mut deploys = 0u32;
    let mut oneoffs = 0u32;
    let mut web_current: Option<String> = None;
    let mut retiring: Vec<(Instant, String)> = Vec::new();
    let mut rng = 0x2545f4914f6cdd1du64;
    let mut rand = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    while t0.elapsed() < run {
        if Instant::now() >= next_deploy {
            // Dokku's deploy: start .upcoming-, rename old to .<unixtime>, rename new, stop old.
            deploys += 1;
            let base = format!("{tag}-web.web.1");
            let upcoming = format!("{base}.upcoming-{deploys}");
            run_container(&upcoming, &dokku_labels("soak-web", "web", "web.1", "deploy"), &[], numbered);
            std::thread::sleep(Duration::from_millis(500));
            if let Some(old) = web_current.take() {
                let retired = format!("{base}.{}", now_ns() / 1_000_000_000);
                docker(&["rename", &old, &retired]);
                docker(&["rename", &upcoming, &base]);
                docker_quiet(&["stop", "-t", "1", &retired]);
                // Dokku removes a retired container later (DOKKU_WAIT_TO_RETIRE, 60 s by
                // default): it stays, exited, until then.
                retiring.push((Instant::now() + Duration::from_secs(45), retired));
            } else {
                docker(&["rename", &upcoming, &base]);
            }
            web_current = Some(base.clone());
            if !cleanup.lock().unwrap().contains(&base) {
                cleanup.lock().unwrap().push(base);
            }
            next_deploy = Instant::now() + Duration::from_secs(60);
        }
        for (_, name) in retiring.iter().filter(|(at, _)| Instant::now() >= *at) {
            removed_truth.insert(name.clone(), docker_logs(name));
            docker_quiet(&["rm", "-f", name]);
        }
        retiring.retain(|(at, _)| Instant::now() < *at);
        if Instant::now() >= next_oneoff {
            oneoffs += 1;
            let name = format!("{tag}-oneoff-{oneoffs}");
            let id = format!("run{oneoffs}-{}", now_ns());
            let out = Command::new("docker")
                .args(["run", "--rm", "--name", &name])
                .args(dokku_labels("soak-web", "run", &format!("run.{oneoffs}"), "run"))
                .args([IMAGE, "sh", "-c", &format!("for i in 1 2 3 4 5; do echo \"oneoff {id} $i\"; done")])
                .output()
                .unwrap();
            assert!(out.status.success());
            removed_truth.insert(format!("oneoff {oneoffs}"), (1..=5).map(|i| format!("oneoff {id} {i}")).collect());
            next_oneoff = Instant::now() + Duration::from_secs(20);
        }
        if Instant::now() >= next_kill {
            srv.child.kill().unwrap();
            srv.child.wait().unwrap();
            kills += 1;
            std::thread::sleep(Duration::from_millis(rand(3000)));
            srv = start(bin, &dir, port, &cfg);
            // The agent lists the containers once it reaches Docker, a moment after the API is
            // ready; a one-off that lived and was removed entirely before that leaves nothing to
            // read (for any collector), so the soak's one-offs wait for it.
            let t = Instant::now();
            while metric(&c, port, "bitacora_agent_containers").await < 1.0 && t.elapsed() < Duration::from_secs(20) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            next_kill = Instant::now() + Duration::from_secs(40 + rand(60));
        }
        if !disk_full_done && t0.elapsed() > run.mul_f64(0.6) {
            disk_full_done = true;
            let ballast = mnt.join("ballast");
            fill_disk(&ballast);
            eprintln!("[{:>4}s] disk full for 20 s", t0.elapsed().as_secs());
            tokio::time::sleep(Duration::from_secs(20)).await;
            std::fs::remove_file(&ballast).unwrap();
        }
        if Instant::now() >= next_sample {
            let pid = srv.child.id();
            let q0 = Instant::now();
            let _ = get_json(
                &c,
                port,
                "/loki/api/v1/query",
                &[("query", "sum(count_over_time({app=~\".+\"}[1h]))".into()), ("time", now_ns().to_string())],
            )
            .await;
            let count_ms = q0.elapsed().as_secs_f64() * 1000.0;
            let q1 = Instant::now();
            let _ = get_json(
                &c,
                port,
                "/loki/api/v1/query_range",
                &[
                    ("query", "{app=~\"pushed-.*\"} |= \"seq=4242 \"".into()),
                    ("start", (now_ns() - 30 * DAY).to_string()),
                    ("end", now_ns().to_string()),
                    ("limit", "100".into()),
                ],
            )
            .await;
            let needle_ms = q1.elapsed().as_secs_f64() * 1000.0;
            let row = format!(
                "| {:>5} | {:>6.1} | {:>4} | {:>5} | {:>5} | {:>7.1} | {:>8.1} | {:>8} |",
                t0.elapsed().as_secs(),
                proc_status(pid, "VmRSS:") as f64 / 1024.0,
                std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0),
                metric(&c, port, "bitacora_segments").await,
                metric(&c, port, "bitacora_compactions_total").await,
                count_ms,
                needle_ms,
                sh.acked.lock().unwrap().len(),
            );
            eprintln!("{row}");
            samples.push(row);
            next_sample = Instant::now() + Duration::from_secs(30);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sh.stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    // Stop the containers, let the agent drain them, then compare.
    let names = cleanup.lock().unwrap().clone();
    for n in &names {
        docker_quiet(&["stop", "-t", "1", n]);
    }
    docker_quiet(&["update", "--restart", "no", &crash]);
    docker_quiet(&["stop", "-t", "1", &crash]);
    let mut truth: BTreeMap<String, Vec<String>> = removed_truth;
    for (_, name) in &retiring {
        truth.insert(name.clone(), docker_logs(name));
        docker_quiet(&["rm", "-f", name]);
    }
    for n in &names {
        truth.insert(n.clone(), docker_logs(n));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let end = now_ns() + 1;
    let horizon = end - 7 * DAY + DAY / 2; // safely inside the retention period
    let acked = sh.acked.lock().unwrap().clone();
    let expected_http: HashSet<String> =
        acked.iter().filter(|(_, ts)| **ts >= horizon).map(|(l, _)| l.clone()).collect();
    let got_http = all_lines(&c, port, "{app=~\"pushed-.*\"}", horizon, end).await;
    let (http_missing, http_dups) = compare(&expected_http, &got_http);
    let older_kept = all_lines(&c, port, "{app=~\"pushed-.*\"}", start_data - DAY, horizon).await;
    let (_, old_dups) = compare(&HashSet::new(), &older_kept);

    let since = t0.elapsed().as_nanos() as i64 + 120_000_000_000;
    let got_containers = all_lines(&c, port, "{app=~\"soak-.*\", source!=\"docker\"}", end - since, end).await;
    let expected_c = expand_numbered(truth.values().flatten());
    let (c_missing, c_dups) = compare(&expected_c, &got_containers);
    // Where a missing line is, if anywhere: searched over the whole month, without the window.
    let seen: HashSet<&String> = got_containers.iter().collect();
    for l in expected_c.iter().filter(|l| !seen.contains(l)).take(3) {
        let needle = l.split(' ').take(3).collect::<Vec<_>>().join(" ") + " ";
        let q = format!("{{app=~\"soak-.*\"}} |= `{needle}`");
        let v = get_json(
            &c,
            port,
            "/loki/api/v1/query_range",
            &[
                ("query", q.clone()),
                ("start", (end - 30 * DAY + DAY).to_string()),
                ("end", end.to_string()),
                ("limit", "10".into()),
            ],
        )
        .await;
        eprintln!("search {q}: {}", v["data"]["result"]);
    }
    let extra = got_containers.iter().filter(|l| !expected_c.contains(*l)).count();

    for n in &names {
        docker_quiet(&["rm", "-f", n]);
    }
    let pid = srv.child.id();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0);
    let segs = metric(&c, port, "bitacora_segments").await;
    let hwm = proc_status(pid, "VmHWM:") as f64 / 1024.0;
    let _ = srv.child.kill();
    let _ = srv.child.wait();

    println!("\n## Soak: {minutes} simulated minutes ({} days of pushed data)", 30);
    println!("| t (s) | RSS MiB | fds | segs | compactions | count ms | needle ms | acked |");
    println!("|---|---|---|---|---|---|---|---|");
    for s in &samples {
        println!("{s}");
    }
    println!();
    println!("kill -9 of `bitacora run`: {kills}; Dokku deploys: {deploys}; one-offs: {oneoffs}");
    println!(
        "pushes refused 507 during the disk-full episode: {}; pushes cut by a kill: {}",
        sh.refused_507.load(Ordering::Relaxed),
        sh.failed_conn.load(Ordering::Relaxed)
    );
    println!(
        "HTTP lines acknowledged: {}; inside retention: {}; missing: {http_missing}; duplicated: {http_dups}; \
         older than the horizon still kept: {} (duplicated: {old_dups})",
        acked.len(),
        expected_http.len(),
        older_kept.len()
    );
    println!(
        "container lines printed: {}; missing: {c_missing}; duplicated: {c_dups}; read but no longer in docker logs: {extra}",
        expected_c.len()
    );
    println!("at the end: {segs} segments, {fds} open files, peak RSS {hwm:.1} MiB");
    let ok = http_missing == 0 && http_dups == 0 && c_missing == 0 && c_dups == 0 && old_dups == 0;
    println!("{}", if ok { "SOAK PASSED: nothing lost, nothing twice" } else { "SOAK FAILED" });
    if !ok {
        std::process::exit(1);
    }
}
