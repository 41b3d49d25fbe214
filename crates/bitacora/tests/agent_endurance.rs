//! The agent over hours, against a real Docker engine (`scripts/docker-setup.sh` provides it):
//! it sleeps while containers are exited, stopped or crash-looping (CPU time from
//! `/proc/<pid>/stat`), falls back to the logs API when it cannot read the json-files, labels
//! lines with the engine's host name, and stops within a second on SIGTERM, losing nothing and
//! sending nothing twice across the restart.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Http, free_port, now_ns};

const IMAGE: &str = "bitacora-test:busybox";

/// Docker must be there in CI; elsewhere the test says why it cannot run.
fn docker_ready() -> bool {
    let ok = Command::new("docker")
        .args(["image", "inspect", IMAGE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs Docker: run scripts/docker-setup.sh first");
        eprintln!("SKIPPED: no Docker engine with {IMAGE}; run scripts/docker-setup.sh");
    }
    ok
}

/// `(name, value)` pairs as the process helpers take them.
fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect()
}

/// Tests that change uids or mount namespaces need root (as the Docker tests run in CI).
fn root_ready(what: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI runs as root: {what} needs it");
        eprintln!("SKIPPED: {what} needs root");
    }
    root
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker CLI");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Lines Docker itself holds for a container, per stream (the truth to compare with).
fn docker_log_lines(name: &str) -> (u64, u64) {
    let out = Command::new("docker").args(["logs", name]).output().expect("docker logs");
    assert!(out.status.success());
    (
        out.stdout.iter().filter(|&&b| b == b'\n').count() as u64,
        out.stderr.iter().filter(|&&b| b == b'\n').count() as u64,
    )
}

fn dokku(app: &str) -> Vec<String> {
    ["com.dokku.app-name=", "com.dokku.process-type=web", "com.dokku.container-type=deploy", "com.dokku.dyno=web.1"]
        .iter()
        .map(|l| if l.ends_with('=') { format!("--label={l}{app}") } else { format!("--label={l}") })
        .collect()
}

/// `docker run -d` with Dokku's labels (app = name), extra options, and a shell script.
fn run(name: &str, opts: &[&str], script: &str) -> String {
    let labels = dokku(name);
    let mut args: Vec<&str> = vec!["run", "-d", "--name", name];
    args.extend(labels.iter().map(String::as_str));
    args.extend(opts);
    args.extend([IMAGE, "sh", "-c", script]);
    docker(&args)
}

struct Cleanup(Vec<String>);
impl Drop for Cleanup {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = Command::new("docker").args(["rm", "-f", n]).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
    }
}

/// Lines per stream of one app, counted by the server (duplicates would count twice).
async fn counts(h: &Http, app: &str) -> BTreeMap<String, u64> {
    let q = format!("sum by (stream) (count_over_time({{app=\"{app}\", source!=\"docker\"}}[1h]))");
    let v = h.get_json("/loki/api/v1/query", &[("query", &q), ("time", &(now_ns() + 1_000_000_000).to_string())]).await;
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (s["metric"]["stream"].as_str().unwrap_or("").to_string(), s["value"][1].as_str().unwrap().parse().unwrap())
        })
        .collect()
}

async fn wait_counts(h: &Http, want: &[(String, Vec<(&str, u64)>)], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let mut bad = Vec::new();
        for (app, streams) in want {
            let got = counts(h, app).await;
            let exp: BTreeMap<String, u64> =
                streams.iter().filter(|(_, n)| *n > 0).map(|(s, n)| (s.to_string(), *n)).collect();
            if got != exp {
                bad.push(format!("{app}: got {got:?}, want {exp:?}"));
            }
        }
        if bad.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "counts differ:\n{}", bad.join("\n"));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every `<prefix> <n> ...` line of an app, by number: each of 0..n exactly once.
async fn assert_each_once(h: &Http, app: &str, n: u32) {
    let lines =
        h.all_lines(&format!("{{app=\"{app}\", source!=\"docker\"}}"), now_ns() - 600_000_000_000, now_ns()).await;
    let mut seen: Vec<u32> = lines.iter().map(|l| l.1.split(' ').nth(1).unwrap().parse().unwrap()).collect();
    seen.sort();
    assert_eq!(seen, (0..n).collect::<Vec<_>>(), "every line of {app} exactly once");
}

fn writer(prefix: &str, n: u32, pause_every: u32) -> String {
    format!(
        "i=0; while [ $i -lt {n} ]; do echo \"{prefix} $i padding-padding-padding-padding\"; i=$((i+1)); if [ $((i % {pause_every})) -eq 0 ]; then usleep 100000; fi; done"
    )
}

/// A `bitacora` process whose output (logs go to stdout, errors to stderr) goes to a file, so
/// that tests can read what it logged.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Proc {
    /// `wrapper` (e.g. setpriv, unshare) runs the binary with `args`.
    fn spawn(wrapper: &[&str], args: &[&str], env: &[(&str, &str)], log: &Path) -> Proc {
        let bin = env!("CARGO_BIN_EXE_bitacora");
        let mut cmd = if wrapper.is_empty() {
            Command::new(bin)
        } else {
            let mut c = Command::new(wrapper[0]);
            c.args(&wrapper[1..]).arg(bin);
            c
        };
        let out = std::fs::File::create(log).unwrap();
        cmd.args(args)
            .env("BITACORA_LOG_LEVEL", "info")
            .env("BITACORA_LIMITS__INGESTION_RATE_MB", "0")
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Proc { child: cmd.spawn().expect("start bitacora"), log: log.to_path_buf() }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// CPU time (user + system) so far, in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).expect("process alive");
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split_whitespace().collect();
        // Fields 14 and 15 of proc(5); `after` starts at field 3.
        let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
        // SAFETY: sysconf has no preconditions.
        ticks as f64 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
    }

    /// SIGTERM, then the time until it exited (bounded: 20 s at most).
    fn terminate_timed(&mut self) -> (Duration, std::process::ExitStatus) {
        let t = Instant::now();
        // SAFETY: kill with a child's pid and a valid signal.
        unsafe { libc::kill(self.pid(), libc::SIGTERM) };
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return (t.elapsed(), st);
            }
            assert!(t.elapsed() < Duration::from_secs(20), "no exit 20 s after SIGTERM");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn assert_alive(&mut self, what: &str) {
        assert!(self.child.try_wait().unwrap().is_none(), "{what} exited:\n{}", self.output());
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `bitacora MODE` (server or run) on a data directory and port, once it answers `/ready`.
fn server_at(data: &Path, port: u16, log: &Path, mode: &str, env: &[(&str, &str)]) -> Proc {
    let listen = format!("127.0.0.1:{port}");
    // `mode` may carry flags of its own (`server --role query`).
    let mut args: Vec<&str> = mode.split_whitespace().collect();
    args.extend(["--listen", &listen, "--data-dir", data.to_str().unwrap()]);
    let mut p = Proc::spawn(&[], &args, env, log);
    wait_http(port, "/ready", &mut p);
    p
}

/// Waits until `GET path` answers 200 on the port.
fn wait_http(port: u16, path: &str, p: &mut Proc) {
    use std::io::{Read, Write};
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        p.assert_alive("the process");
        if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
            if c.write_all(format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").as_bytes()).is_ok() {
                let mut buf = String::new();
                let _ = c.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
        }
        assert!(Instant::now() < deadline, "nothing answered {path} on port {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn agent_args(push_port: u16, metrics: &str, positions: &str) -> Vec<String> {
    vec![
        "agent".into(),
        "--push-url".into(),
        format!("http://127.0.0.1:{push_port}/loki/api/v1/push"),
        "--metrics-listen".into(),
        metrics.into(),
        "--positions".into(),
        positions.into(),
    ]
}

fn spawn_agent(wrapper: &[&str], push_port: u16, metrics: &str, positions: &Path, tag: &str, log: &Path) -> Proc {
    let args = agent_args(push_port, metrics, positions.to_str().unwrap());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let include = format!("{tag}-.*");
    Proc::spawn(
        wrapper,
        &args,
        &[
            ("BITACORA_AGENT__INCLUDE_CONTAINERS", &include),
            ("BITACORA_AGENT__BATCH_WAIT", "200ms"),
            ("BITACORA_AGENT__MAX_BACKOFF", "2s"),
        ],
        log,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_sleeps_on_exited_stopped_and_crash_looping_containers() {
    if !docker_ready() {
        return;
    }
    let tag = format!("be1-{}", std::process::id());
    let n = |s: &str| format!("{tag}-{s}");
    let mut cleanup = Cleanup(Vec::new());
    for s in ["old", "ex1", "ex2", "ex3", "stopped", "crash"] {
        cleanup.0.push(n(s));
    }
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let _srv = server_at(&tmp.path().join("srv"), port, &tmp.path().join("server.log"), "server", &[]);
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    // A retired container, exited before the agent starts.
    run(&n("old"), &[], "i=0; while [ $i -lt 30 ]; do echo \"old $i\"; i=$((i+1)); done");
    docker(&["wait", &n("old")]);
    let mut agent =
        spawn_agent(&[], port, "127.0.0.1:0", &tmp.path().join("positions.json"), &tag, &tmp.path().join("agent.log"));
    std::thread::sleep(Duration::from_secs(1));
    // Containers that exit (not removed) while the agent reads them...
    for (i, s) in ["ex1", "ex2", "ex3"].iter().enumerate() {
        let lines = 100 * (i + 1);
        run(&n(s), &[], &format!("i=0; while [ $i -lt {lines} ]; do echo \"{s} $i\"; i=$((i+1)); done; echo bye >&2"));
    }
    // ...one stopped as `dokku ps:stop` does...
    run(&n("stopped"), &[], "i=0; while [ $i -lt 50 ]; do echo \"stopped $i\"; i=$((i+1)); done; sleep 3600");
    // ...and one crash-looping, as Dokku's default `--restart on-failure` does.
    run(&n("crash"), &["--restart", "on-failure"], "echo \"crash $$\"; exit 1");
    for s in ["ex1", "ex2", "ex3"] {
        docker(&["wait", &n(s)]);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    docker(&["stop", "-t", "1", &n("stopped")]);
    wait_counts(
        &h,
        &[
            (n("old"), vec![("stdout", 30)]),
            (n("ex1"), vec![("stdout", 100), ("stderr", 1)]),
            (n("ex2"), vec![("stdout", 200), ("stderr", 1)]),
            (n("ex3"), vec![("stdout", 300), ("stderr", 1)]),
            (n("stopped"), vec![("stdout", 50)]),
        ],
        Duration::from_secs(30),
    )
    .await;

    // The crash loop goes on (Docker's back-off doubles from 100 ms) while the agent is measured.
    let (c0, t0) = (agent.cpu_seconds(), Instant::now());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (c1, wall) = (agent.cpu_seconds(), t0.elapsed().as_secs_f64());
    let share = (c1 - c0) / wall;
    eprintln!(
        "agent CPU over {wall:.1} s with 5 exited/stopped and 1 crash-looping containers: {:.2} % of a core",
        share * 100.0
    );
    agent.assert_alive("the agent");
    assert!(share < 0.02, "the agent used {:.1} % of a core while its containers were idle", share * 100.0);
    let restarts = docker(&["inspect", "--format", "{{.RestartCount}}", &n("crash")]);
    assert!(restarts.parse::<u32>().unwrap() >= 3, "the container crash-looped ({restarts} restarts)");

    // Every line of the crash loop arrives too, as many as Docker holds.
    docker(&["stop", "-t", "0", &n("crash")]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (out, err) = docker_log_lines(&n("crash"));
    assert!(out >= 4 && err == 0, "crash loop logged {out} lines");
    wait_counts(&h, &[(n("crash"), vec![("stdout", out)])], Duration::from_secs(30)).await;
    assert!(!agent.output().contains("push failed"), "{}", agent.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_json_files_fall_back_to_the_logs_api_with_a_warning() {
    if !docker_ready() || !root_ready("running the agent as another uid") {
        return;
    }
    let tag = format!("be2-{}", std::process::id());
    let n = |s: &str| format!("{tag}-{s}");
    let _cleanup = Cleanup(vec![n("a"), n("b")]);
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let _srv = server_at(&tmp.path().join("srv"), port, &tmp.path().join("server.log"), "server", &[]);
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    // The agent's own directory is writable by the unprivileged uid; Docker's is not readable.
    let agent_dir = tmp.path().join("agent");
    std::fs::create_dir(&agent_dir).unwrap();
    std::fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&agent_dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let sock_gid = std::os::unix::fs::MetadataExt::gid(&std::fs::metadata("/var/run/docker.sock").unwrap());
    let groups = format!("--groups={sock_gid}");
    let wrapper = ["setpriv", "--reuid=65534", "--regid=65534", groups.as_str()];
    let agent_log = tmp.path().join("agent.log");
    let mut agent = spawn_agent(&wrapper, port, "127.0.0.1:0", &agent_dir.join("positions.json"), &tag, &agent_log);
    std::thread::sleep(Duration::from_secs(1));
    agent.assert_alive("the unprivileged agent");
    run(&n("a"), &[], &format!("{}; echo to-stderr >&2", writer("a", 1000, 100)));
    run(&n("b"), &[], "i=0; while [ $i -lt 20 ]; do echo \"b $i\"; i=$((i+1)); done");
    wait_counts(
        &h,
        &[(n("a"), vec![("stdout", 1000), ("stderr", 1)]), (n("b"), vec![("stdout", 20)])],
        Duration::from_secs(40),
    )
    .await;
    assert_each_once(&h, &n("b"), 20).await;
    // Still exactly once a little later (no second reader, no replay).
    tokio::time::sleep(Duration::from_secs(2)).await;
    wait_counts(&h, &[(n("a"), vec![("stdout", 1000), ("stderr", 1)])], Duration::from_secs(1)).await;
    let log = agent.output();
    let warnings: Vec<&str> = log.lines().filter(|l| l.contains("WARN") && l.contains("cannot read")).collect();
    assert_eq!(warnings.len(), 1, "one warning for the unreadable json-files:\n{log}");
    let w = warnings[0];
    eprintln!("{w}");
    for needle in ["/var/lib/docker/containers", "65534", "root", "Docker logs API"] {
        assert!(w.contains(needle), "the warning names {needle:?}: {w}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_label_is_the_docker_engines_name() {
    if !docker_ready() || !root_ready("a private /etc/hostname (mount namespace)") {
        return;
    }
    let tag = format!("be3-{}", std::process::id());
    let name = format!("{tag}-h");
    let _cleanup = Cleanup(vec![name.clone()]);
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let _srv = server_at(&tmp.path().join("srv"), port, &tmp.path().join("server.log"), "server", &[]);
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    // Inside a container /etc/hostname holds the container's id.
    let fake = tmp.path().join("hostname");
    std::fs::write(&fake, "0123456789ab\n").unwrap();
    let script = format!("mount --bind {} /etc/hostname && exec \"$0\" \"$@\"", fake.display());
    let wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script.as_str()];
    let mut agent = spawn_agent(
        &wrapper,
        port,
        "127.0.0.1:0",
        &tmp.path().join("positions.json"),
        &tag,
        &tmp.path().join("agent.log"),
    );
    std::thread::sleep(Duration::from_secs(1));
    agent.assert_alive("the agent in its mount namespace");
    run(&name, &[], "echo one; echo two");
    wait_counts(&h, &[(name.clone(), vec![("stdout", 2)])], Duration::from_secs(30)).await;
    let v = h
        .get_json(
            "/loki/api/v1/series",
            &[("match[]", &format!("{{app=\"{name}\", source!=\"docker\"}}")), ("since", "10m")],
        )
        .await;
    let engine = docker(&["info", "--format", "{{.Name}}"]);
    assert!(!engine.is_empty());
    let hosts: Vec<&str> = v["data"].as_array().unwrap().iter().filter_map(|s| s["host"].as_str()).collect();
    assert_eq!(hosts, vec![engine.as_str()], "the host label is the engine's name, not /etc/hostname: {v}");
}

/// What a SIGTERM must look like: fast, no spurious retry, nothing lost or doubled.
fn assert_clean_exit(took: Duration, status: std::process::ExitStatus, log: &str, what: &str) {
    eprintln!("{what} exited {took:?} after SIGTERM ({status})");
    assert!(status.success(), "{what} exit status {status}:\n{log}");
    assert!(took < Duration::from_millis(1500), "{what} took {took:?} to stop:\n{log}");
    assert!(!log.contains("push failed"), "{what} logged a spurious push failure:\n{log}");
    assert!(!log.contains("ERROR"), "{what} logged an error:\n{log}");
}

/// The saved position of a container is exactly the end of the `stored` lines the receiver
/// holds: further would lose lines, earlier would send some twice (which the store, dropping
/// exact duplicates, would hide from a count).
fn assert_position_covers(positions: &Path, name: &str, stored: u64) {
    let id = docker(&["inspect", "--format", "{{.Id}}", name]);
    let log = docker(&["inspect", "--format", "{{.LogPath}}", name]);
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(positions).unwrap()).unwrap();
    let offset = saved["containers"][&id]["offset"].as_u64().unwrap_or(0);
    let file = std::fs::read(&log).unwrap();
    let end = if stored == 0 {
        0
    } else {
        file.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(stored as usize - 1)
            .map(|(i, _)| i as u64 + 1)
            .unwrap()
    };
    assert_eq!(offset, end, "{name}: the position covers the {stored} stored lines exactly");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_agent_within_a_second_and_a_restart_continues_exactly() {
    if !docker_ready() {
        return;
    }
    let tag = format!("be4-{}", std::process::id());
    let name = format!("{tag}-w");
    let _cleanup = Cleanup(vec![name.clone()]);
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let _srv = server_at(&tmp.path().join("srv"), port, &tmp.path().join("server.log"), "server", &[]);
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let positions = tmp.path().join("positions.json");
    let mut agent = spawn_agent(&[], port, &metrics, &positions, &tag, &tmp.path().join("agent1.log"));
    wait_http(metrics_port, "/metrics", &mut agent);
    // About 12 s of writing, 200 lines a second.
    run(&name, &[], &writer("w", 2400, 20));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (took, status) = agent.terminate_timed();
    assert_clean_exit(took, status, &agent.output(), "bitacora agent");
    let stored = counts(&h, &name).await.get("stdout").copied().unwrap_or(0);
    assert!(stored > 0 && stored < 2400, "the first agent shipped part of the lines ({stored})");
    assert_position_covers(&positions, &name, stored);
    // An immediate restart binds the same metrics port and carries on where the first stopped.
    let mut agent = spawn_agent(&[], port, &metrics, &positions, &tag, &tmp.path().join("agent2.log"));
    wait_http(metrics_port, "/metrics", &mut agent);
    tokio::time::sleep(Duration::from_secs(3)).await;
    agent.assert_alive("the restarted agent");
    let (took, status) = agent.terminate_timed();
    assert_clean_exit(took, status, &agent.output(), "bitacora agent (second run)");
    let stored2 = counts(&h, &name).await.get("stdout").copied().unwrap_or(0);
    assert!(stored2 > stored, "the second agent shipped more ({stored} → {stored2})");
    assert_position_covers(&positions, &name, stored2);
    let mut agent = spawn_agent(&[], port, &metrics, &positions, &tag, &tmp.path().join("agent3.log"));
    docker(&["wait", &name]);
    wait_counts(&h, &[(name.clone(), vec![("stdout", 2400)])], Duration::from_secs(60)).await;
    assert_each_once(&h, &name, 2400).await;
    agent.assert_alive("the third agent");
    assert!(!agent.output().contains("push failed"), "{}", agent.output());
}

/// What a stopped `bitacora run` stored for an app, counted by `bitacora server` (no agent) on
/// its data directory.
async fn stored_without_agent(data: &Path, port: u16, app: &str, log: &Path) -> u64 {
    let mut srv = server_at(data, port, log, "server", &[]);
    let n = counts(&Http::new(&format!("http://127.0.0.1:{port}")), app).await.get("stdout").copied().unwrap_or(0);
    let (_, status) = srv.terminate_timed();
    assert!(status.success());
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_bitacora_run_within_a_second_and_a_restart_continues_exactly() {
    if !docker_ready() {
        return;
    }
    let tag = format!("be5-{}", std::process::id());
    let name = format!("{tag}-w");
    let _cleanup = Cleanup(vec![name.clone()]);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let include = format!("{tag}-.*");
    let env = [("BITACORA_AGENT__INCLUDE_CONTAINERS", include.as_str())];
    let mut srv = server_at(&data, port, &tmp.path().join("run1.log"), "run", &env);
    run(&name, &[], &writer("w", 2400, 20));
    // Stopped mid-stream: once the first lines are stored (a loaded machine may take longer than
    // the usual second to start the container and the agent), while it still writes for seconds.
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while counts(&h, &name).await.get("stdout").copied().unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "no line of {name} arrived within 30 s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (took, status) = srv.terminate_timed();
    assert_clean_exit(took, status, &srv.output(), "bitacora run");
    let positions = data.join("agent-positions.json");
    let stored = stored_without_agent(&data, port, &name, &tmp.path().join("count1.log")).await;
    assert!(stored > 0 && stored < 2400, "the first run shipped part of the lines ({stored})");
    assert_position_covers(&positions, &name, stored);
    let mut srv = server_at(&data, port, &tmp.path().join("run2.log"), "run", &env);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (took, status) = srv.terminate_timed();
    assert_clean_exit(took, status, &srv.output(), "bitacora run (second run)");
    let stored2 = stored_without_agent(&data, port, &name, &tmp.path().join("count2.log")).await;
    assert!(stored2 > stored, "the second run shipped more ({stored} → {stored2})");
    assert_position_covers(&positions, &name, stored2);
    let srv = server_at(&data, port, &tmp.path().join("run3.log"), "run", &env);
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    docker(&["wait", &name]);
    wait_counts(&h, &[(name.clone(), vec![("stdout", 2400)])], Duration::from_secs(60)).await;
    assert_each_once(&h, &name, 2400).await;
    assert!(!srv.output().contains("push failed"), "{}", srv.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_that_loses_access_to_the_json_files_resumes_through_the_api_exactly() {
    if !docker_ready() || !root_ready("running the agent as another uid") {
        return;
    }
    let tag = format!("be6-{}", std::process::id());
    let name = format!("{tag}-w");
    let _cleanup = Cleanup(vec![name.clone()]);
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let _srv = server_at(&tmp.path().join("srv"), port, &tmp.path().join("server.log"), "server", &[]);
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    let agent_dir = tmp.path().join("agent");
    std::fs::create_dir(&agent_dir).unwrap();
    std::fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&agent_dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let positions = agent_dir.join("positions.json");
    // First as root, reading the json-file by offset...
    let mut agent = spawn_agent(&[], port, "127.0.0.1:0", &positions, &tag, &tmp.path().join("agent1.log"));
    std::thread::sleep(Duration::from_millis(500));
    run(&name, &[], &writer("w", 2000, 20));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (took, status) = agent.terminate_timed();
    assert_clean_exit(took, status, &agent.output(), "the root agent");
    let first = counts(&h, &name).await.get("stdout").copied().unwrap_or(0);
    assert!(first > 0 && first < 2000, "the first agent shipped part of the lines ({first})");
    // ...then without access to Docker's directory: the logs API, from where the first stopped.
    let sock_gid = std::os::unix::fs::MetadataExt::gid(&std::fs::metadata("/var/run/docker.sock").unwrap());
    let groups = format!("--groups={sock_gid}");
    let wrapper = ["setpriv", "--reuid=65534", "--regid=65534", groups.as_str()];
    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let mut agent = spawn_agent(&wrapper, port, &metrics, &positions, &tag, &tmp.path().join("agent2.log"));
    docker(&["wait", &name]);
    wait_counts(&h, &[(name.clone(), vec![("stdout", 2000)])], Duration::from_secs(40)).await;
    assert_each_once(&h, &name, 2000).await;
    agent.assert_alive("the unprivileged agent");
    // The store drops exact duplicates, so the proof of no replay is what the agent read.
    let text = reqwest::get(format!("http://{metrics}/metrics")).await.unwrap().text().await.unwrap();
    let read: u64 = text
        .lines()
        .find(|l| l.starts_with("bitacora_agent_lines_read_total{") && l.contains(&name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no lines_read for {name}:\n{text}"));
    assert_eq!(read, 2000 - first, "the second agent resumed after the {first} lines the first one shipped");
}

/// `dokku run`-like one-offs (`docker run --rm`, five lines, gone at once): every line of every
/// one of them arrives, even when the container is removed before the agent's reader starts
/// (its json-file was opened the moment Docker created it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rm_one_offs_lose_no_line() {
    if !docker_ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let _srv = server_at(&tmp.path().join("data"), port, &tmp.path().join("run.log"), "run", &[]);
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    // The agent has listed the containers once it reports its gauge.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !h.get("/metrics", &[]).await.1.contains("bitacora_agent_containers") {
        assert!(Instant::now() < deadline, "the agent did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let app = format!("oneoff-{}", std::process::id());
    let n = 40;
    // Eight at a time, as a busy host runs them: the agent's event handling falls behind.
    for batch in 0..n / 8 {
        let runs: Vec<_> = (0..8)
            .map(|j| {
                let i = batch * 8 + j;
                Command::new("docker")
                    .args([
                        "run",
                        "--rm",
                        &format!("--label=com.dokku.app-name={app}"),
                        "--label=com.dokku.container-type=run",
                    ])
                    .args([IMAGE, "sh", "-c", &format!("for k in 1 2 3 4 5; do echo \"run {i} line $k\"; done")])
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut r in runs {
            assert!(r.wait().unwrap().success());
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let lines =
            h.all_lines(&format!("{{app=\"{app}\", source!=\"docker\"}}"), now_ns() - 600_000_000_000, now_ns()).await;
        let mut got: Vec<String> = lines.into_iter().map(|l| l.1).collect();
        got.sort();
        let mut want: Vec<String> = (0..n).flat_map(|i| (1..=5).map(move |k| format!("run {i} line {k}"))).collect();
        want.sort();
        if got == want {
            return;
        }
        if Instant::now() > deadline {
            let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).take(10).collect();
            panic!("{} of {} one-off lines arrived; missing {missing:?}", got.len(), want.len());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `agent.push_urls` (issue 16): every batch goes to two writers sharing a bucket and is
/// acknowledged once both took it; a query node answers over both. While a real container
/// writes, writer b is killed (`kill -9`), its data directory deleted and started again empty,
/// and then the bucket (a real Garage) is stopped for 30 s: every line is answered exactly once
/// through the query node at the end, queries during the outage say what they could not read,
/// and the writer that stayed never received a batch twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicated_pushes_through_two_writers_and_a_query_node_lose_nothing() {
    if !docker_ready() {
        return;
    }
    let Some(garage) = common::peers::Garage::start() else { return };
    let tag = format!("be9-{}", std::process::id());
    let name = format!("{tag}-w");
    let _cleanup = Cleanup(vec![name.clone()]);
    let tmp = tempfile::tempdir().unwrap();
    let vars = |id: &str| {
        let mut v = garage.bitacora_env("t5", id);
        v.push(("BITACORA_STORE__OBJECT_STORE__SYNC_INTERVAL".into(), "200ms".into()));
        v.push(("BITACORA_STORE__FLUSH_INTERVAL".into(), "2s".into()));
        v
    };
    let (va, vb, vq) = (vars("writer-a"), vars("writer-b"), vars("query-1"));
    let (port_a, port_b, port_q) = (free_port(), free_port(), free_port());
    let _a = server_at(&tmp.path().join("a"), port_a, &tmp.path().join("a.log"), "server", &as_refs(&va));
    let mut b = server_at(&tmp.path().join("b"), port_b, &tmp.path().join("b1.log"), "server", &as_refs(&vb));
    let _q = server_at(&tmp.path().join("q"), port_q, &tmp.path().join("q.log"), "server --role query", &as_refs(&vq));
    let (ha, hb, hq) = (
        Http::new(&format!("http://127.0.0.1:{port_a}")),
        Http::new(&format!("http://127.0.0.1:{port_b}")),
        Http::new(&format!("http://127.0.0.1:{port_q}")),
    );
    let metrics_port = free_port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let positions = tmp.path().join("positions.json");
    let args = agent_args(port_a, &metrics, positions.to_str().unwrap());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let include = format!("{tag}-.*");
    let urls = format!("[http://127.0.0.1:{port_a}/loki/api/v1/push, http://127.0.0.1:{port_b}/loki/api/v1/push]");
    let mut agent = Proc::spawn(
        &[],
        &args,
        &[
            ("BITACORA_AGENT__INCLUDE_CONTAINERS", &include),
            ("BITACORA_AGENT__PUSH_URLS", &urls),
            ("BITACORA_AGENT__BATCH_WAIT", "200ms"),
            ("BITACORA_AGENT__MAX_BACKOFF", "1s"),
        ],
        &tmp.path().join("agent.log"),
    );
    wait_http(metrics_port, "/metrics", &mut agent);
    // About 60 s of writing, 200 lines a second.
    let total = 12_000;
    run(&name, &[], &writer("w", total, 20));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = counts(&hb, &name).await.get("stdout").copied().unwrap_or(0);
    assert!(before > 0, "writer b received lines before it was killed");
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    std::fs::remove_dir_all(tmp.path().join("b")).unwrap();
    // While b is gone, batches wait for it (the quorum is both), and a is not sent them twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _b = server_at(&tmp.path().join("b"), port_b, &tmp.path().join("b2.log"), "server", &as_refs(&vb));
    // The bucket goes away for 30 s under load: pushes are still acknowledged, and the query
    // node's answers say what they could not read.
    tokio::time::sleep(Duration::from_secs(3)).await;
    garage.stop();
    let outage = Instant::now();
    let mut warned = false;
    while outage.elapsed() < Duration::from_secs(30) {
        let q = format!("sum(count_over_time({{app=\"{name}\", source!=\"docker\"}} |= \"padding\" [1h]))");
        let v = hq
            .get_json("/loki/api/v1/query", &[("query", &q), ("time", &(now_ns() + 1_000_000_000).to_string())])
            .await;
        warned |= v.get("warnings").is_some();
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert!(warned, "queries during the outage said they could not read everything");
    garage.restart();
    docker(&["wait", &name]);
    wait_counts(&ha, &[(name.clone(), vec![("stdout", total as u64)])], Duration::from_secs(90)).await;
    assert_each_once(&ha, &name, total).await;
    // Through the query node, and through b (whose disk was lost): every line once.
    for h in [&hq, &hb] {
        wait_counts(h, &[(name.clone(), vec![("stdout", total as u64)])], Duration::from_secs(90)).await;
        assert_each_once(h, &name, total).await;
    }
    let q = format!("sum(count_over_time({{app=\"{name}\", source!=\"docker\"}} |= \"padding\" [1h]))");
    let v =
        hq.get_json("/loki/api/v1/query", &[("query", &q), ("time", &(now_ns() + 1_000_000_000).to_string())]).await;
    assert!(v.get("warnings").is_none(), "no warning once the bucket is back: {v}");
    assert_eq!(v["data"]["result"][0]["value"][1], total.to_string(), "{v}");
    let log = agent.output();
    assert!(log.contains("writers accepted the batch (quorum 2)"), "the agent said why it waited:\n{log}");
    agent.assert_alive("the agent");
}
