//! `GET /api/apps` and `GET /api/apps/containers/{id}` against a real `bitacora run` and a real
//! Docker engine (a crash loop under `--restart on-failure:3`, a busy loop's CPU and memory, an
//! OOM kill, stats streams open only while someone asks), and against a `bitacora server` with
//! no Docker socket, whose answer is replayed from pushed container events.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Http, Server, free_port, now_ns};
use serde_json::Value;

const IMAGE: &str = "bitacora-test:busybox";

/// Docker must be there in CI (the engine may still be starting: `docker info` is retried);
/// elsewhere the test says why it cannot run.
fn docker_ready() -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    let ok = |args: &[&str]| {
        Command::new("docker")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    while !ok(&["info"]) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(1));
    }
    let ready = ok(&["image", "inspect", IMAGE]);
    if !ready {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs Docker: run scripts/docker-setup.sh first");
        eprintln!("SKIPPED: no Docker engine with {IMAGE}; run scripts/docker-setup.sh");
    }
    ready
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker CLI");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

struct Cleanup(Vec<String>);
impl Drop for Cleanup {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = Command::new("docker").args(["rm", "-f", n]).stdout(Stdio::null()).stderr(Stdio::null()).status();
        }
    }
}

/// `docker run -d` of the test image; Dokku's labels when `app` is given.
fn run(name: &str, app: Option<(&str, &str)>, opts: &[&str], script: &str) -> String {
    let mut args: Vec<String> = vec!["run".into(), "-d".into(), "--name".into(), name.into()];
    if let Some((app, dyno)) = app {
        let pt = dyno.split('.').next().unwrap();
        for l in [
            format!("com.dokku.app-name={app}"),
            format!("com.dokku.process-type={pt}"),
            "com.dokku.container-type=deploy".to_string(),
            format!("com.dokku.dyno={dyno}"),
        ] {
            args.push(format!("--label={l}"));
        }
    }
    args.extend(opts.iter().map(|s| s.to_string()));
    args.extend([IMAGE.to_string(), "sh".into(), "-c".into(), script.into()]);
    docker(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn app<'a>(answer: &'a Value, name: &str) -> Option<&'a Value> {
    answer["apps"].as_array().unwrap().iter().find(|a| a["name"] == name)
}

fn container<'a>(answer: &'a Value, app_name: &str) -> Option<&'a Value> {
    app(answer, app_name)?["containers"].as_array()?.first()
}

/// A gauge or counter of the server's `/metrics`.
async fn metric(h: &Http, name: &str) -> f64 {
    let (_, text) = h.get("/metrics", &[]).await;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')).map(|v| v.parse().unwrap()))
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_mode_shows_live_state_restarts_oom_and_stats_only_while_asked() {
    if !docker_ready() {
        return;
    }
    let tag = format!("ba-{}", std::process::id());
    let tmp = tempfile::tempdir().unwrap();
    let srv = Server::launch(
        "run",
        tmp.path(),
        free_port(),
        &[
            ("BITACORA_AGENT__INCLUDE_CONTAINERS", &format!("{tag}-.*")),
            ("BITACORA_AGENT__POLL_INTERVAL", "50ms"),
            ("BITACORA_APPS__STATS_LINGER", "3s"),
        ],
    );
    let h = Http::new(&srv.addr);
    let n = |s: &str| format!("{tag}-{s}");
    let _cleanup = Cleanup(vec![n("crash"), n("busy"), n("oom"), n("killed"), n("plain"), n("renamed")]);
    let (crash_app, busy_app) = (n("crashapp"), n("busyapp"));

    let busy_id = run(&n("busy"), Some((&busy_app, "web.1")), &[], "echo started; while :; do :; done");
    let crash_id = run(
        &n("crash"),
        Some((&crash_app, "worker.1")),
        &["--restart", "on-failure:3"],
        "echo 'level=error msg=\"cannot reach the database\"'; sleep 1; exit 1",
    );
    // The process runs under a shell that exits with its status, as Dokku's herokuish `/start`
    // runs a Procfile's command; the second before the exit lets containerd read the cgroup's
    // OOM count (when the only process dies at once, Docker loses the OOM now and then).
    run(
        &n("oom"),
        None,
        &["--memory", "8m", "--memory-swap", "8m"],
        "(x=a; while :; do x=$x$x; done); s=$?; sleep 1; exit $s",
    );
    let plain_id = run(&n("plain"), None, &[], "echo 'level=error msg=\"plain boot\"'; sleep 600");

    // Nobody has asked yet: no stats stream, no sample read.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(metric(&h, "bitacora_apps_stats_streams_open").await, 0.0);
    assert_eq!(metric(&h, "bitacora_apps_stats_samples_total").await, 0.0);

    // The crash loop: restarts counted as they happen, then exited with its code.
    let mut restarts_seen: Vec<u64> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(40);
    let last = loop {
        let a = h.get_json("/api/apps", &[]).await;
        assert_eq!(a["engine"], true, "{a}");
        if let Some(c) = container(&a, &crash_app) {
            let r = c["restart_count"].as_u64().unwrap();
            if restarts_seen.last() != Some(&r) {
                restarts_seen.push(r);
            }
            if r == 3 && c["state"] == "exited" {
                break a;
            }
        }
        assert!(Instant::now() < deadline, "no 3 restarts and exit: seen {restarts_seen:?}, last {a}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(restarts_seen.len() >= 2 && restarts_seen.windows(2).all(|w| w[0] < w[1]), "{restarts_seen:?}");
    let crash = app(&last, &crash_app).unwrap();
    assert_eq!(crash["kind"], "app");
    assert_eq!(crash["selector"], format!("{{app=\"{crash_app}\"}}"));
    assert_eq!(crash["process_types"], serde_json::json!(["worker"]));
    let c = &crash["containers"][0];
    assert_eq!(c["id"], crash_id.as_str());
    assert_eq!(c["name"], format!("{crash_app}.worker.1"));
    assert_eq!(c["docker_name"], n("crash"));
    assert_eq!((c["dyno"].as_str(), c["process_type"].as_str()), (Some("worker.1"), Some("worker")));
    assert_eq!((c["exit_code"].as_i64(), c["oom_killed"].as_bool()), (Some(1), Some(false)));
    assert_eq!(c["image"], IMAGE);
    assert!(c["started_at"].is_string() && c["finished_at"].is_string() && c["created_at"].is_string(), "{c}");
    assert!(c["cpu_percent"].is_null() && c["memory_bytes"].is_null(), "an exited container has no stats: {c}");

    // The busy loop: CPU and memory from the second poll on.
    let deadline = Instant::now() + Duration::from_secs(20);
    let busy = loop {
        let a = h.get_json("/api/apps", &[]).await;
        let c = container(&a, &busy_app).cloned();
        if let Some(c) = c.filter(|c| c["cpu_percent"].is_number()) {
            break c;
        }
        assert!(Instant::now() < deadline, "no CPU for the busy container: {a}");
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    assert!(busy["cpu_percent"].as_f64().unwrap() > 10.0, "{busy}");
    assert!(busy["memory_bytes"].as_u64().unwrap() > 0, "{busy}");
    assert_eq!((busy["state"].as_str(), busy["exit_code"].as_i64()), (Some("running"), None));
    assert!(metric(&h, "bitacora_apps_stats_streams_open").await >= 1.0);

    // The OOM kill, a container outside Dokku: its own entry under its name. The engine may
    // learn of the OOM after the exit; the recorded `oom` event then says so.
    let deadline = Instant::now() + Duration::from_secs(30);
    let oom = loop {
        let a = h.get_json("/api/apps", &[]).await;
        if let Some(c) = container(&a, &n("oom")).filter(|c| c["state"] == "exited" && c["oom_killed"] == true) {
            assert_eq!(app(&a, &n("oom")).unwrap()["kind"], "container");
            break c.clone();
        }
        assert!(Instant::now() < deadline, "the OOM container did not exit OOM-killed: {a}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!((oom["oom_killed"].as_bool(), oom["exit_code"].as_i64()), (Some(true), Some(137)), "{oom}");
    assert_eq!(oom["memory_limit_bytes"].as_u64(), Some(8 * 1024 * 1024));
    assert!(oom["app"].is_null() && oom["dyno"].is_null(), "{oom}");

    // SIGKILLed by `docker kill`: exit 137 too, but no OOM kill. Then an `oom` event recorded
    // for it after its start, as Docker's own arrives when it reaches the daemon after the
    // exit (the engine then says `OOMKilled: false`): the answer reads the kill from it.
    let killed_id = run(&n("killed"), None, &[], "sleep 600");
    docker(&["kill", &n("killed")]);
    let exited = |a: &Value| container(a, &n("killed")).filter(|c| c["state"] == "exited").cloned();
    let deadline = Instant::now() + Duration::from_secs(20);
    let killed = loop {
        if let Some(c) = exited(&h.get_json("/api/apps", &[]).await) {
            break c;
        }
        assert!(Instant::now() < deadline, "the killed container is not listed as exited");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((killed["oom_killed"].as_bool(), killed["exit_code"].as_i64()), (Some(false), Some(137)), "{killed}");
    let labels = serde_json::json!({"container_name": n("killed"), "host": "h", "source": "docker"});
    push(&h, labels, &[(0, &format!("event=oom container={} id={}", n("killed"), &killed_id[..12]))]).await;
    let one = h.get_json(&format!("/api/apps/containers/{}", &killed_id[..12]), &[]).await;
    assert_eq!((one["oom_killed"].as_bool(), one["exit_code"].as_i64()), (Some(true), Some(137)), "{one}");
    let listed = exited(&h.get_json("/api/apps", &[]).await).unwrap();
    assert_eq!(listed["oom_killed"], true, "{listed}");

    // A container outside Dokku renamed with `docker rename`: its lines keep the name it had
    // (the agent's stable name), and so does its entry, under which those lines are counted.
    let deadline = Instant::now() + Duration::from_secs(20);
    while container(&h.get_json("/api/apps", &[]).await, &n("plain")).is_none() {
        assert!(Instant::now() < deadline, "the plain container was not listed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    docker(&["rename", &n("plain"), &n("renamed")]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // Until the agent's rename event is stored, the engine's new name shows for a moment.
        let a = h.get_json("/api/apps", &[]).await;
        let entry = app(&a, &n("plain")).unwrap();
        let c = &entry["containers"][0];
        let lines: f64 = entry["lines_per_minute"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).sum();
        if c["docker_name"] == n("renamed") && lines >= 1.0 && app(&a, &n("renamed")).is_none() {
            assert_eq!((c["id"].as_str(), c["name"].as_str()), (Some(plain_id.as_str()), Some(&*n("plain"))));
            assert_eq!(entry["selector"], format!("{{container_name=\"{}\"}}", n("plain")));
            break;
        }
        assert!(Instant::now() < deadline, "the renamed container is not under its lines' name: {a}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let one = h.get_json(&format!("/api/apps/containers/{}", &plain_id[..12]), &[]).await;
    assert_eq!((one["name"].as_str(), one["docker_name"].as_str()), (Some(&*n("plain")), Some(&*n("renamed"))));

    // The crash loop's lines arrived through the agent: counted per minute, the error too.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = h.get_json("/api/apps", &[]).await;
        let crash = app(&a, &crash_app).unwrap();
        let sum = |k: &str| crash[k].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).sum::<f64>();
        if sum("lines_per_minute") >= 4.0 && sum("errors_per_minute") >= 4.0 && crash["last_error"].is_object() {
            assert_eq!(crash["lines_per_minute"].as_array().unwrap().len(), 60);
            assert!(crash["last_error"]["line"].as_str().unwrap().contains("cannot reach the database"), "{crash}");
            break;
        }
        assert!(Instant::now() < deadline, "the crash loop's lines were not counted: {crash}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // One container by a 12-char id, with live stats; unknown and malformed ids.
    let one = h.get_json(&format!("/api/apps/containers/{}", &busy_id[..12]), &[]).await;
    assert_eq!(
        (one["id"].as_str(), one["name"].as_str()),
        (Some(busy_id.as_str()), Some(&*format!("{busy_app}.web.1")))
    );
    assert!(one["cpu_percent"].as_f64().unwrap() > 10.0, "{one}");
    let (status, body) = h.get("/api/apps/containers/0123456789ab0123", &[]).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "no container 0123456789ab0123");
    let (status, body) = h.get("/api/apps/containers/not-an-id", &[]).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("bad container id"), "{body}");

    // Nobody asks any more: every stream is closed after the linger (3 s here), though the
    // busy container still runs, and no sample arrives after that.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(metric(&h, "bitacora_apps_stats_streams_open").await, 0.0);
    let samples = metric(&h, "bitacora_apps_stats_samples_total").await;
    assert!(samples > 0.0);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(metric(&h, "bitacora_apps_stats_samples_total").await, samples);
    assert_eq!(docker(&["inspect", "-f", "{{.State.Running}}", &n("busy")]), "true");
}

/// Pushes lines to one stream, `(seconds ago, line)`.
async fn push(h: &Http, labels: Value, lines: &[(i64, &str)]) {
    let now = now_ns();
    let values: Vec<Value> =
        lines.iter().map(|(ago, l)| serde_json::json!([(now - ago * 1_000_000_000).to_string(), l])).collect();
    let (status, body) = h.push_json(&serde_json::json!({"streams": [{"stream": labels, "values": values}]})).await;
    assert_eq!(status, 204, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_without_docker_answers_from_recorded_events() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-docker.sock");
    let srv = Server::start(&[("BITACORA_AGENT__DOCKER_HOST", &format!("unix://{}", missing.display()))]);
    let h = Http::new(&srv.addr);
    let shop = serde_json::json!({"app": "shop", "process_type": "web", "host": "h1", "source": "docker"});
    let img = "image=dokku/shop:latest";
    let crash = |e: &str| format!("event={e} container=shop.web.1 id=aaaaaaaaaaaa {img}");
    let lines = [
        (600, crash("create")),
        (590, crash("start")),
        (500, format!("event=die container=shop.web.1 id=aaaaaaaaaaaa exit_code=1 oom=false {img}")),
        (499, crash("start")),
        (400, format!("event=oom container=shop.web.1 id=aaaaaaaaaaaa {img}")),
        (400, format!("event=die container=shop.web.1 id=aaaaaaaaaaaa exit_code=137 oom=true {img}")),
        (300, format!("event=create container=shop.web.1 id=bbbbbbbbbbbb {img}")),
        (299, format!("event=start container=shop.web.1 id=bbbbbbbbbbbb {img}")),
        (
            290,
            format!(
                "event=deploy container=shop.web.1 id=bbbbbbbbbbbb old_id=aaaaaaaaaaaa {img} image_id=abc123def456 old_image=dokku/shop:latest old_image_id=0123456789ab took=8.2s"
            ),
        ),
        (200, format!("event=health_status container=shop.web.1 id=bbbbbbbbbbbb health=healthy {img}")),
    ];
    let refs: Vec<(i64, &str)> = lines.iter().map(|(a, l)| (*a, l.as_str())).collect();
    push(&h, shop, &refs).await;
    let web = serde_json::json!({"app": "shop", "process_type": "web", "dyno": "web.1", "container_name": "shop.web.1", "stream": "stdout", "host": "h1"});
    push(&h, web, &[(100, "GET / 200"), (90, "level=error msg=\"payment failed\""), (80, "GET / 200")]).await;
    let db = serde_json::json!({"container_name": "blog-db-1", "host": "h1", "source": "docker"});
    push(&h, db, &[(50, "event=start container=blog-db-1 id=cccccccccccc image=postgres:16")]).await;

    let a = h.get_json("/api/apps", &[]).await;
    assert_eq!(a["engine"], false, "{a}");
    let apps: Vec<&str> = a["apps"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(apps, vec!["blog-db-1", "shop"], "{a}");
    let shop = app(&a, "shop").unwrap();
    assert_eq!(shop["process_types"], serde_json::json!(["web"]));
    let cs = shop["containers"].as_array().unwrap();
    assert_eq!(cs.len(), 2, "{shop}");
    // Same dyno: the newest first.
    let (new, old) = (&cs[0], &cs[1]);
    assert_eq!(
        (new["id"].as_str(), new["state"].as_str(), new["health"].as_str()),
        (Some("bbbbbbbbbbbb"), Some("running"), Some("healthy"))
    );
    assert_eq!((old["id"].as_str(), old["state"].as_str()), (Some("aaaaaaaaaaaa"), Some("exited")));
    assert_eq!(
        (old["restart_count"].as_u64(), old["exit_code"].as_i64(), old["oom_killed"].as_bool()),
        (Some(1), Some(137), Some(true))
    );
    assert_eq!((old["dyno"].as_str(), old["name"].as_str()), (Some("web.1"), Some("shop.web.1")));
    assert!(old["cpu_percent"].is_null() && old["memory_bytes"].is_null());
    let d = &shop["last_deploy"];
    assert_eq!(
        (d["image"].as_str(), d["image_id"].as_str(), d["took_seconds"].as_f64()),
        (Some("dokku/shop:latest"), Some("abc123def456"), Some(8.2)),
        "{d}"
    );
    assert_eq!((d["container"].as_str(), d["old_image_id"].as_str()), (Some("shop.web.1"), Some("0123456789ab")));
    let at: jiff::Timestamp = d["at"].as_str().unwrap().parse().unwrap();
    assert!((jiff::Timestamp::now().as_second() - at.as_second() - 290).abs() <= 2, "{d}");
    // Its lines (not its events) per minute, and the error among them.
    let sum = |k: &str| shop[k].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).sum::<f64>();
    assert_eq!((sum("lines_per_minute"), sum("errors_per_minute")), (3.0, 1.0), "{shop}");
    assert_eq!(shop["last_error"]["line"], "level=error msg=\"payment failed\"");
    let start = a["minutes_start"].as_i64().unwrap();
    assert_eq!(start % 60, 0);
    assert!(jiff::Timestamp::now().as_second() - start < 3600 && jiff::Timestamp::now().as_second() - start >= 59 * 60);
    let db = app(&a, "blog-db-1").unwrap();
    assert_eq!(
        (db["kind"].as_str(), db["selector"].as_str()),
        (Some("container"), Some(r#"{container_name="blog-db-1"}"#))
    );
    assert_eq!(db["containers"][0]["state"], "running");

    let one = h.get_json("/api/apps/containers/aaaaaaaaaaaa", &[]).await;
    assert_eq!((one["state"].as_str(), one["exit_code"].as_i64()), (Some("exited"), Some(137)));
    let (status, body) = h.get("/api/apps/containers/dddddddddddd", &[]).await;
    assert_eq!((status, body.as_str()), (404, r#"{"error":"no container dddddddddddd"}"#));
    assert_eq!(metric(&h, "bitacora_apps_stats_streams_open").await, 0.0);
}
