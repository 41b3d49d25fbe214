//! The install paths, on the real Docker engine: the container image (`scripts/build-image.sh`,
//! tagged `bitacora:test` by `scripts/test.sh`, or `BITACORA_TEST_IMAGE`) runs as uid 10001 with
//! the socket and the container logs mounted read-only and collects another container's lines
//! exactly; as root it tails the json-files instead of the logs API; an unwritable data directory
//! names the `chown` to run; `docker-compose up -d` with the repository's compose file works; and
//! the systemd unit's claims (a non-root user with CAP_DAC_READ_SEARCH tails the files) hold for
//! the binary; the unit passes `systemd-analyze verify`; and a real Prometheus scrapes Bitácora with
//! deploy/prometheus.yml (the compose file's Prometheus image cannot be pulled here, so its profile
//! is not run). When `CI=true`, a missing engine, image, docker-compose or Prometheus is a failure.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Http, Server, free_port, now_ns};

const BUSYBOX: &str = "bitacora-test:busybox";

fn ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

fn image() -> String {
    std::env::var("BITACORA_TEST_IMAGE").unwrap_or_else(|_| "bitacora:test".into())
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A dependency of a test: required in CI, otherwise a reason to skip.
fn need(ok: bool, what: &str) -> bool {
    if !ok {
        assert!(!ci(), "CI needs {what}");
        eprintln!("SKIPPED: {what} is missing");
    }
    ok
}

fn succeeds(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// The engine with the busybox test image and the Bitácora image.
fn images_ready() -> bool {
    need(
        succeeds("docker", &["image", "inspect", BUSYBOX]),
        "a Docker engine with bitacora-test:busybox (scripts/docker-setup.sh)",
    ) && need(
        succeeds("docker", &["image", "inspect", &image()]),
        &format!("the image {} (scripts/build-image.sh {})", image(), image()),
    )
}

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn docker_out(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().expect("docker CLI")
}

fn docker(args: &[&str]) -> String {
    let out = docker_out(args);
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A name no other test run uses.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), now_ns() % 1_000_000_000)
}

/// The group of the Docker socket: what `--group-add` must name.
fn socket_gid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/var/run/docker.sock").expect("the Docker socket").gid()
}

/// The engine's container log directory (`<DockerRootDir>/containers`).
fn containers_dir() -> String {
    format!("{}/containers", docker(&["info", "--format", "{{.DockerRootDir}}"]))
}

/// Removes containers and volumes at the end of a test, whatever happens.
#[derive(Default)]
struct Cleanup {
    containers: Vec<String>,
    volumes: Vec<String>,
    compose: Option<(String, Vec<(String, String)>)>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ =
                Command::new("docker").args(["rm", "-f", "-v", c]).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
        if let Some((project, env)) = &self.compose {
            let _ = compose(project, env, &["down", "-v", "--timeout", "5"]);
        }
        for v in &self.volumes {
            let _ = Command::new("docker")
                .args(["volume", "rm", "-f", v])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Starts the image detached with the socket and the log directory read-only, a read-only root
/// file system, the socket's group, and `extra` options; returns the container's name and port.
fn start_image(cleanup: &mut Cleanup, name: &str, data: &str, extra: &[&str]) -> (String, u16) {
    let port = free_port();
    let containers = containers_dir();
    let (publish, group, data_mount) =
        (format!("127.0.0.1:{port}:3100"), socket_gid().to_string(), format!("{data}:/data"));
    let containers_mount = format!("{containers}:{containers}:ro");
    let mut args = vec![
        "run",
        "-d",
        "--name",
        name,
        "--read-only",
        "-p",
        &publish,
        "-v",
        &data_mount,
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock:ro",
        "-v",
        &containers_mount,
        "--group-add",
        &group,
        "-e",
        "BITACORA_LIMITS__INGESTION_RATE_MB=0",
    ];
    args.extend(extra);
    let image = image();
    args.push(&image);
    cleanup.containers.push(name.to_string());
    docker(&args);
    (name.to_string(), port)
}

async fn wait_ready(h: &Http, container: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = h.c.get(format!("{}/ready", h.base)).timeout(Duration::from_secs(2)).send().await
            && r.status().is_success()
        {
            return;
        }
        if Instant::now() > deadline {
            panic!("{container} did not become ready; its output:\n{}", logs(container));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn logs(container: &str) -> String {
    let out = docker_out(&["logs", container]);
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The uid the container's main process runs as, from the host's /proc.
fn container_uid(container: &str) -> u32 {
    let pid = docker(&["inspect", "--format", "{{.State.Pid}}", container]);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace().nth(2).unwrap().parse().unwrap() // real, effective, saved, fs
}

/// Runs a container with Dokku's app label that writes `n` numbered lines and exits.
fn write_lines(cleanup: &mut Cleanup, app: &str, n: u32) {
    let name = unique(app);
    cleanup.containers.push(name.clone());
    let label = format!("--label=com.dokku.app-name={app}");
    let script = format!("i=0; while [ $i -lt {n} ]; do echo \"{app} line $i\"; i=$((i+1)); done");
    docker(&["run", "-d", "--name", &name, &label, "--label=com.dokku.process-type=web", BUSYBOX, "sh", "-c", &script]);
}

async fn count(h: &Http, app: &str) -> u64 {
    let q = format!("sum(count_over_time({{app=\"{app}\", source!=\"docker\"}}[1h]))");
    let v = h.get_json("/loki/api/v1/query", &[("query", &q), ("time", &(now_ns() + 1_000_000_000).to_string())]).await;
    v["data"]["result"].as_array().unwrap().first().map_or(0, |s| s["value"][1].as_str().unwrap().parse().unwrap())
}

/// Waits for exactly `n` lines of `app`, then checks that no duplicate arrives after them.
async fn expect_exactly(h: &Http, app: &str, n: u64, container: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let c = count(h, app).await;
        assert!(c <= n, "{app}: {c} lines stored, {n} written (duplicates)");
        if c == n {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{app}: {c} of {n} lines after 60 s; {container}'s output:\n{}",
            logs(container)
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(count(h, app).await, n, "{app}: lines arrived twice");
}

/// `docker stop` (SIGTERM to PID 1): a clean exit, quickly.
fn stop_cleanly(container: &str) {
    let t = Instant::now();
    docker(&["stop", "-t", "20", container]);
    let code = docker(&["inspect", "--format", "{{.State.ExitCode}}", container]);
    assert_eq!(code, "0", "{container} exit code after SIGTERM; output:\n{}", logs(container));
    assert!(t.elapsed() < Duration::from_secs(10), "{container} took {:?} to stop", t.elapsed());
}

const API_FALLBACK: &str = "read through the Docker logs API";

#[test]
fn image_is_small_runs_as_10001_and_serves_run_on_all_interfaces() {
    if !images_ready() {
        return;
    }
    let image = image();
    let size: u64 = docker(&["image", "inspect", "--format", "{{.Size}}", &image]).parse().unwrap();
    eprintln!("{image}: {size} bytes");
    assert!(size <= 40 << 20, "{image} is {size} bytes, above 40 MiB");
    assert_eq!(docker(&["image", "inspect", "--format", "{{.Config.User}}", &image]), "10001:10001");
    assert_eq!(
        docker(&["image", "inspect", "--format", "{{json .Config.Cmd}}", &image]),
        r#"["run","--listen","0.0.0.0:3100","--data-dir","/data"]"#
    );
    assert_eq!(docker(&["image", "inspect", "--format", "{{json .Config.Volumes}}", &image]), r#"{"/data":{}}"#);

    // The binary in it: stripped of debug info and symbols (both in target/image/bitacora.debug),
    // small, and it runs (its libraries are there).
    let name = unique("bitacora-image-files");
    let mut cleanup = Cleanup::default();
    cleanup.containers.push(name.clone());
    docker(&["create", "--name", &name, &image]);
    let dir = tempfile::tempdir().unwrap();
    docker(&["cp", &format!("{name}:/usr/local/bin/bitacora"), dir.path().to_str().unwrap()]);
    docker(&["cp", &format!("{name}:/etc/passwd"), dir.path().to_str().unwrap()]);
    let bin = std::fs::metadata(dir.path().join("bitacora")).unwrap().len();
    eprintln!("the binary in {image}: {bin} bytes");
    // Everything in one binary (store, LogQL, agent, UI, ruler, notifier with SMTP, dashboards):
    // about 33 MiB (the S3 client of the object storage tier added 4 MB), against the hundreds
    // of MB of Loki, Promtail, Grafana and Alertmanager it replaces. A jump past 36 MiB is a
    // regression worth a look.
    assert!(bin <= 36 << 20, "the binary is {bin} bytes, above 36 MiB");
    let sections = Command::new("readelf").arg("-SW").arg(dir.path().join("bitacora")).output().expect("readelf");
    let sections = String::from_utf8_lossy(&sections.stdout);
    assert!(!sections.contains(".debug_info") && !sections.contains(".debug_line"), "debug info in the image");
    assert!(sections.contains(".gnu_debuglink"), "no debug link:\n{sections}");
    let debug = Command::new("readelf").arg("-SW").arg("../../target/image/bitacora.debug").output().expect("readelf");
    let debug = String::from_utf8_lossy(&debug.stdout);
    assert!(debug.contains(".symtab") && debug.contains(".debug_line"), "symbols and line tables split off:\n{debug}");
    let passwd = std::fs::read_to_string(dir.path().join("passwd")).unwrap();
    assert!(passwd.lines().any(|l| l.starts_with("bitacora:x:10001:10001:")), "{passwd}");
    let version = docker(&["run", "--rm", "--network", "none", &image, "--version"]);
    assert!(version.starts_with("bitacora "), "{version}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_as_10001_collects_a_container_exactly_through_the_logs_api() {
    if !images_ready() {
        return;
    }
    let mut cleanup = Cleanup::default();
    let volume = unique("bitacora-test-data");
    cleanup.volumes.push(volume.clone());
    let (c, port) = start_image(&mut cleanup, &unique("bitacora-image"), &volume, &[]);
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    wait_ready(&h, &c).await;
    assert_eq!(container_uid(&c), 10001, "the image's process runs as uid 10001");

    let app = unique("imgapp");
    write_lines(&mut cleanup, &app, 300);
    expect_exactly(&h, &app, 300, &c).await;
    // uid 10001 cannot read root's json-files: the documented fallback, said once.
    let out = logs(&c);
    assert_eq!(out.matches(API_FALLBACK).count(), 1, "{c}'s output:\n{out}");
    assert!(!out.contains('\u{1b}'), "ANSI colours in the container's log (NO_COLOR):\n{out}");
    stop_cleanly(&c);

    // It wrote its data volume, as 10001, and nothing else (the root file system is read-only).
    let listing = docker(&["run", "--rm", "-v", &format!("{volume}:/data:ro"), BUSYBOX, "ls", "-ln", "/data"]);
    assert!(listing.contains("agent-positions.json"), "{listing}");
    for l in listing.lines().skip(1) {
        assert!(l.split_whitespace().nth(2) == Some("10001"), "not owned by 10001: {l}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_as_root_tails_the_json_files() {
    if !images_ready() {
        return;
    }
    let mut cleanup = Cleanup::default();
    let volume = unique("bitacora-test-data");
    cleanup.volumes.push(volume.clone());
    let (c, port) = start_image(&mut cleanup, &unique("bitacora-image-root"), &volume, &["--user", "0:0"]);
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    wait_ready(&h, &c).await;
    assert_eq!(container_uid(&c), 0);

    let app = unique("rootapp");
    write_lines(&mut cleanup, &app, 300);
    expect_exactly(&h, &app, 300, &c).await;
    let out = logs(&c);
    assert!(!out.contains(API_FALLBACK) && !out.contains("cannot read"), "{c}'s output:\n{out}");
    stop_cleanly(&c);
}

#[test]
fn image_with_an_unwritable_data_dir_names_the_chown() {
    if !images_ready() {
        return;
    }
    // A host directory owned by root, mounted at /data: uid 10001 cannot write it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut cleanup = Cleanup::default();
    let name = unique("bitacora-image-ro");
    cleanup.containers.push(name.clone());
    let mount = format!("{}:/data", dir.path().display());
    docker(&["run", "-d", "--name", &name, "--network", "none", "-v", &mount, &image()]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while docker(&["inspect", "--format", "{{.State.Running}}", &name]) == "true" {
        assert!(Instant::now() < deadline, "{name} kept running with an unwritable /data:\n{}", logs(&name));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_ne!(docker(&["inspect", "--format", "{{.State.ExitCode}}", &name]), "0");
    let out = logs(&name);
    assert!(out.contains("uid 10001 (gid 10001)"), "{out}");
    assert!(out.contains("chown -R 10001:10001 /data"), "{out}");
}

/// `docker-compose` (Debian's 1.29.2) with the repository's compose file and `env`.
fn compose(project: &str, env: &[(String, String)], args: &[&str]) -> Output {
    let file = repo().join("docker-compose.yml");
    let mut cmd = Command::new("docker-compose");
    cmd.args(["-p", project, "-f", file.to_str().unwrap()]).args(args).stdin(Stdio::null());
    for k in ["BITACORA_IMAGE", "DOCKER_GID", "BITACORA_PORT", "DOCKER_CONTAINERS"] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("docker-compose")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compose_up_collects_another_containers_logs_and_down_removes_it() {
    if !images_ready()
        || !need(succeeds("docker-compose", &["version"]), "docker-compose (apt-get install docker-compose)")
    {
        return;
    }
    let project = unique("bitacoratest").replace('-', "");
    let port = free_port();
    let env: Vec<(String, String)> = vec![
        ("BITACORA_IMAGE".into(), image()),
        ("DOCKER_GID".into(), socket_gid().to_string()),
        ("BITACORA_PORT".into(), format!("127.0.0.1:{port}")),
        ("DOCKER_CONTAINERS".into(), containers_dir()),
    ];
    let mut cleanup = Cleanup::default();
    cleanup.compose = Some((project.clone(), env.clone()));

    // Without DOCKER_GID it refuses, naming the variable.
    let no_gid: Vec<(String, String)> = env.iter().filter(|(k, _)| k != "DOCKER_GID").cloned().collect();
    let out = compose(&project, &no_gid, &["config", "-q"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("DOCKER_GID"), "{out:?}");

    let out = compose(&project, &env, &["up", "-d"]);
    assert!(out.status.success(), "docker-compose up -d: {}", String::from_utf8_lossy(&out.stderr));
    let c = docker(&["ps", "-q", "--filter", &format!("label=com.docker.compose.project={project}")]);
    assert_eq!(c.lines().count(), 1, "one container in the default profile: {c}");
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    wait_ready(&h, &c).await;
    assert_eq!(container_uid(&c), 10001);

    let app = unique("composeapp");
    write_lines(&mut cleanup, &app, 250);
    expect_exactly(&h, &app, 250, &c).await;

    let out = compose(&project, &env, &["down", "-v", "--timeout", "10"]);
    assert!(out.status.success(), "docker-compose down -v: {}", String::from_utf8_lossy(&out.stderr));
    cleanup.compose = None;
    let left = docker(&["ps", "-aq", "--filter", &format!("label=com.docker.compose.project={project}")]);
    assert!(left.is_empty(), "containers left after down: {left}");
    let vols = docker(&["volume", "ls", "-q", "--filter", &format!("label=com.docker.compose.project={project}")]);
    assert!(vols.is_empty(), "volumes left after down -v: {vols}");
}

/// `bitacora` (this build) as uid 10001 through `setpriv`, as deploy/bitacora.service runs it.
fn spawn_as_10001(args: &[&str], ambient_dac_read_search: bool) -> Command {
    let mut cmd = Command::new("setpriv");
    // Supplementary groups: the socket's only (SupplementaryGroups=docker).
    cmd.args(["--reuid=10001", "--regid=10001", &format!("--groups={}", socket_gid())]);
    if ambient_dac_read_search {
        cmd.args(["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]);
    }
    cmd.arg(env!("CARGO_BIN_EXE_bitacora")).args(args);
    cmd
}

#[test]
fn binary_as_another_user_with_an_unwritable_data_dir_names_the_chown() {
    if !need(is_root() && succeeds("setpriv", &["--version"]), "root and setpriv (to run as uid 10001)") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let port = free_port().to_string();
    let out = spawn_as_10001(
        &["server", "--listen", &format!("127.0.0.1:{port}"), "--data-dir", dir.to_str().unwrap()],
        false,
    )
    .stdin(Stdio::null())
    .output()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("uid 10001 (gid 10001)"), "{err}");
    assert!(err.contains(&format!("chown -R 10001:10001 {}", dir.display())), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_as_10001_with_dac_read_search_tails_the_json_files_as_the_systemd_unit_says() {
    if !need(is_root() && succeeds("setpriv", &["--version"]), "root and setpriv (to run as uid 10001)")
        || !need(succeeds("docker", &["image", "inspect", BUSYBOX]), "a Docker engine with bitacora-test:busybox")
    {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::os::unix::fs::chown(tmp.path(), Some(10001), Some(10001)).unwrap();
    let port = free_port();
    let stderr = tmp.path().join("output");
    let mut child = spawn_as_10001(
        &["run", "--listen", &format!("127.0.0.1:{port}"), "--data-dir", tmp.path().to_str().unwrap()],
        true,
    )
    .env("BITACORA_LIMITS__INGESTION_RATE_MB", "0")
    .stdin(Stdio::null())
    // Its log goes to stdout: keep both.
    .stdout(std::fs::File::create(&stderr).unwrap())
    .stderr(std::fs::File::options().append(true).open(&stderr).unwrap())
    .spawn()
    .unwrap();
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let pid = child.id();
    let kill = Kill(&mut child);
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !h.c.get(format!("{}/ready", h.base)).send().await.is_ok_and(|r| r.status().is_success()) {
        let exited = kill.0.try_wait().unwrap();
        assert!(
            exited.is_none() && Instant::now() < deadline,
            "not ready ({exited:?}): {}",
            std::fs::read_to_string(&stderr).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("10001")), "{status}");

    let mut cleanup = Cleanup::default();
    let app = unique("unitapp");
    write_lines(&mut cleanup, &app, 300);
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&h, &app).await != 300 {
        assert!(Instant::now() < deadline, "{}", std::fs::read_to_string(&stderr).unwrap());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(count(&h, &app).await, 300);
    let err = std::fs::read_to_string(&stderr).unwrap();
    assert!(!err.contains("cannot read"), "the json-files should be readable with CAP_DAC_READ_SEARCH:\n{err}");
}

#[test]
fn systemd_unit_verifies() {
    if !need(succeeds("systemd-analyze", &["--version"]), "systemd-analyze (Debian's systemd package)") {
        return;
    }
    let unit = std::fs::read_to_string(repo().join("deploy/bitacora.service")).unwrap();
    for key in
        ["User=bitacora", "StateDirectory=bitacora", "LimitNOFILE=", "NoNewPrivileges=yes", "ProtectSystem=strict"]
    {
        assert!(unit.contains(key), "deploy/bitacora.service lacks {key}");
    }
    // verify needs ExecStart's binary to exist: point it at this build.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bitacora.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/bitacora", env!("CARGO_BIN_EXE_bitacora"))).unwrap();
    let out = Command::new("systemd-analyze").arg("verify").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.trim().is_empty(), "systemd-analyze verify: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_bitacora_with_the_deploy_config() {
    if !need(
        succeeds("prometheus", &["--version"]) && succeeds("promtool", &["--version"]),
        "Prometheus (apt-get install prometheus)",
    ) {
        return;
    }
    let server = Server::start(&[]);
    // deploy/prometheus.yml as shipped, aimed at this server, scraping every second (not 15 s).
    let shipped = std::fs::read_to_string(repo().join("deploy/prometheus.yml")).unwrap();
    assert!(shipped.contains("bitacora:3100") && shipped.contains("scrape_interval: 15s"), "{shipped}");
    let config = shipped
        .replace("bitacora:3100", &format!("127.0.0.1:{}", server.port))
        .replace("scrape_interval: 15s", "scrape_interval: 1s")
        .replace("scrape_timeout: 10s", "scrape_timeout: 1s");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("prometheus.yml");
    std::fs::write(&file, config).unwrap();
    let check = Command::new("promtool").args(["check", "config"]).arg(&file).output().unwrap();
    assert!(check.status.success(), "promtool check config: {}", String::from_utf8_lossy(&check.stderr));

    let port = free_port();
    let prom = Command::new("prometheus")
        .arg(format!("--config.file={}", file.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _prom = Kill(prom);
    let h = Http::new(&format!("http://127.0.0.1:{port}"));
    let deadline = Instant::now() + Duration::from_secs(45);
    let query = r#"count({job="bitacora", service="bitacora", __name__=~"bitacora_.+"})"#;
    loop {
        if let Ok(r) = h.c.get(format!("{}/api/v1/query", h.base)).query(&[("query", query)]).send().await
            && let Ok(v) = r.json::<serde_json::Value>().await
            && let Some(n) = v["data"]["result"][0]["value"][1].as_str()
        {
            let n: u64 = n.parse().unwrap();
            assert!(n >= 10, "only {n} bitacora_ series scraped");
            break;
        }
        assert!(Instant::now() < deadline, "Prometheus scraped no bitacora_ series in 45 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let up = h.get_json("/api/v1/query", &[("query", r#"up{job="bitacora"}"#)]).await;
    assert_eq!(up["data"]["result"][0]["value"][1], "1", "{up}");
}
