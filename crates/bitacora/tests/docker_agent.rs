//! The agent against a real Docker engine (`scripts/docker-setup.sh` provides it): containers
//! with Dokku's labels write known lines; the exact count per app and stream must arrive, with
//! no loss and no duplicates, through rotation, long lines, stack traces, TTY, `--rm`, restart,
//! rename, removal, the `local` driver, an agent killed mid-stream and a receiver down for 30 s.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Http, Server, free_port, now_ns};

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

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker CLI");
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn dokku(app: &str) -> Vec<String> {
    ["com.dokku.app-name=", "com.dokku.process-type=web", "com.dokku.container-type=deploy", "com.dokku.dyno=web.1"]
        .iter()
        .map(|l| if l.ends_with('=') { format!("--label={l}{app}") } else { format!("--label={l}") })
        .collect()
}

/// `docker run -d` with Dokku's labels for `app`, extra options, and a shell script.
fn run(name: &str, app: &str, opts: &[&str], script: &str) -> String {
    let labels = dokku(app);
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

async fn wait_counts(h: &Http, want: &[(&str, &[(&str, u64)])], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let mut bad = Vec::new();
        for (app, streams) in want {
            let got = counts(h, app).await;
            let exp: BTreeMap<String, u64> = streams.iter().map(|(s, n)| (s.to_string(), *n)).collect();
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

fn writer(prefix: &str, n: u32, pause_every: u32) -> String {
    format!(
        "i=0; while [ $i -lt {n} ]; do echo \"{prefix} $i padding-padding-padding-padding\"; i=$((i+1)); if [ $((i % {pause_every})) -eq 0 ]; then usleep 100000; fi; done"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_mode_collects_every_container_exactly() {
    if !docker_ready() {
        return;
    }
    let tag = format!("bt1-{}", std::process::id());
    let tmp = tempfile::tempdir().unwrap();
    let srv = Server::launch(
        "run",
        tmp.path(),
        free_port(),
        &[("BITACORA_AGENT__INCLUDE_CONTAINERS", &format!("{tag}-.*")), ("BITACORA_AGENT__POLL_INTERVAL", "50ms")],
    );
    let h = Http::new(&srv.addr);
    let n = |s: &str| format!("{tag}-{s}");
    let mut cleanup = Cleanup(Vec::new());
    for s in ["steady", "rot3", "rot1", "long", "java", "tty", "restart", "renamed", "gone", "local", "rm"] {
        cleanup.0.push(n(s));
    }
    let app = |s: &str| format!("{tag}-{s}");
    run(
        &n("steady"),
        &app("steady"),
        &[],
        "i=0; while [ $i -lt 2000 ]; do echo \"out $i\"; i=$((i+1)); done; j=0; while [ $j -lt 500 ]; do echo \"err $j\" >&2; j=$((j+1)); done",
    );
    run(
        &n("rot3"),
        &app("rot3"),
        &["--log-opt", "max-size=64k", "--log-opt", "max-file=3"],
        &writer("rot3", 20000, 500),
    );
    run(&n("rot1"), &app("rot1"), &["--log-opt", "max-size=64k"], &writer("rot1", 20000, 500));
    run(&n("long"), &app("long"), &[], "head -c 50000 /dev/zero | tr '\\0' x; echo; echo short");
    run(
        &n("java"),
        &app("java"),
        &[],
        "printf 'Exception in thread \"main\" java.lang.IllegalStateException: boom\\n\\tat com.example.A.run(A.java:10)\\n\\tat com.example.Main.main(Main.java:5)\\nCaused by: java.io.IOException: disk full\\n\\t... 2 more\\nafter the trace\\n'",
    );
    run(&n("tty"), &app("tty"), &["-t"], "echo tty-1; echo tty-2; echo tty-3");
    run(&n("restart"), &app("restart"), &[], "echo run-once; usleep 200000");
    run(
        &n("local"),
        &app("local"),
        &["--log-driver", "local"],
        "i=0; while [ $i -lt 100 ]; do echo \"local $i\"; i=$((i+1)); done; sleep 2",
    );
    // Removed right after it exits.
    run(&n("gone"), &app("gone"), &[], "echo gone-1; echo gone-2 >&2");
    docker(&["wait", &n("gone")]);
    docker(&["rm", &n("gone")]);
    // --rm and exits at once.
    let labels = dokku(&app("rm"));
    let mut args: Vec<&str> = vec!["run", "--rm", "--name"];
    let rm_name = n("rm");
    args.push(&rm_name);
    args.extend(labels.iter().map(String::as_str));
    args.extend([IMAGE, "sh", "-c", "echo rm-1; echo rm-2"]);
    docker(&args);
    // Restart (same ID, same file, appended) and rename.
    docker(&["wait", &n("restart")]);
    docker(&["start", &n("restart")]);
    docker(&["wait", &n("restart")]);
    docker(&["rename", &n("restart"), &n("renamed")]);
    docker(&["start", &n("renamed")]);
    docker(&["wait", &n("renamed")]);

    wait_counts(
        &h,
        &[
            (&app("steady"), &[("stdout", 2000), ("stderr", 500)]),
            (&app("rot3"), &[("stdout", 20000)]),
            (&app("rot1"), &[("stdout", 20000)]),
            (&app("long"), &[("stdout", 2)]),
            (&app("java"), &[("stdout", 2)]),
            (&app("tty"), &[("stdout", 3)]),
            (&app("restart"), &[("stdout", 3)]),
            (&app("gone"), &[("stdout", 1), ("stderr", 1)]),
            (&app("rm"), &[("stdout", 2)]),
            (&app("local"), &[("stdout", 100)]),
        ],
        Duration::from_secs(60),
    )
    .await;

    // The content, not only the counts.
    let since = now_ns() - 600_000_000_000;
    let long = h.all_lines(&format!("{{app=\"{}\", source!=\"docker\"}}", app("long")), since, now_ns()).await;
    assert_eq!(long[0].1.len(), 50000, "Docker's 16 KiB pieces are joined into one line");
    assert!(long[0].1.bytes().all(|b| b == b'x'));
    let java = h.all_lines(&format!("{{app=\"{}\", source!=\"docker\"}}", app("java")), since, now_ns()).await;
    assert_eq!(java[0].1.lines().count(), 5, "the stack trace is one entry: {:?}", java[0].1);
    assert_eq!(java[1].1, "after the trace");
    let tty = h.all_lines(&format!("{{app=\"{}\", source!=\"docker\"}}", app("tty")), since, now_ns()).await;
    assert_eq!(
        tty.iter().map(|l| l.1.as_str()).collect::<Vec<_>>(),
        vec!["tty-1", "tty-2", "tty-3"],
        "\\r\\n stripped"
    );
    let rot = h.all_lines(&format!("{{app=\"{}\", source!=\"docker\"}}", app("rot1")), since, now_ns()).await;
    let mut seen: Vec<u32> = rot.iter().map(|l| l.1.split(' ').nth(1).unwrap().parse().unwrap()).collect();
    seen.sort();
    assert_eq!(seen, (0..20000).collect::<Vec<_>>());
    // Dokku labels; container_name is `<app>.<dyno>`, the same stream before and after the rename.
    let v = h
        .get_json(
            "/loki/api/v1/series",
            &[("match[]", &format!("{{app=\"{}\", source!=\"docker\"}}", app("restart"))), ("since", "10m")],
        )
        .await;
    let names: Vec<&str> =
        v["data"].as_array().unwrap().iter().map(|s| s["container_name"].as_str().unwrap()).collect();
    assert_eq!(names, vec![format!("{}.web.1", app("restart"))], "{v}");
    let s0 = &v["data"][0];
    assert_eq!(
        (s0["process_type"].as_str(), s0["container_type"].as_str(), s0["dyno"].as_str()),
        (Some("web"), Some("deploy"), Some("web.1"))
    );
    assert!(s0["host"].as_str().is_some_and(|h| !h.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_restart_and_receiver_outage_lose_nothing() {
    if !docker_ready() {
        return;
    }
    let tag = format!("bt2-{}", std::process::id());
    let port = free_port();
    let data = tempfile::tempdir().unwrap();
    let mut srv = Server::launch("server", data.path(), port, &[]);
    let h = Http::new(&srv.addr);
    let agent_dir = tempfile::tempdir().unwrap();
    let positions = agent_dir.path().join("positions.json");
    let start_agent = || {
        Command::new(env!("CARGO_BIN_EXE_bitacora"))
            .args([
                "agent",
                "--push-url",
                &format!("http://127.0.0.1:{port}/loki/api/v1/push"),
                "--metrics-listen",
                "127.0.0.1:0",
                "--positions",
            ])
            .arg(&positions)
            .env("BITACORA_AGENT__INCLUDE_CONTAINERS", format!("{tag}-.*"))
            .env("BITACORA_AGENT__POLL_INTERVAL", "50ms")
            .env("BITACORA_AGENT__BATCH_WAIT", "200ms")
            .env("BITACORA_AGENT__MAX_BACKOFF", "2s")
            .env("BITACORA_LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let name = format!("{tag}-w");
    let _cleanup = Cleanup(vec![name.clone()]);
    let app = format!("{tag}-w");
    let mut agent = start_agent();
    // 40 s of writing, 100 lines a second.
    run(&name, &app, &[], &writer("w", 4000, 10));
    // The agent is killed mid-stream and restarted.
    tokio::time::sleep(Duration::from_secs(3)).await;
    agent.kill().unwrap();
    agent.wait().unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut agent = start_agent();
    // The receiver goes down for 30 s while the container keeps writing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    srv.kill9();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let srv = Server::launch("server", data.path(), port, &[]);
    let h2 = Http::new(&srv.addr);
    let _ = h;
    docker(&["wait", &name]);
    wait_counts(&h2, &[(&app, &[("stdout", 4000)])], Duration::from_secs(60)).await;
    let lines =
        h2.all_lines(&format!("{{app=\"{app}\", source!=\"docker\"}}"), now_ns() - 600_000_000_000, now_ns()).await;
    let mut seen: Vec<u32> = lines.iter().map(|l| l.1.split(' ').nth(1).unwrap().parse().unwrap()).collect();
    seen.sort();
    assert_eq!(seen, (0..4000).collect::<Vec<_>>(), "every line exactly once");
    let _ = agent.kill();
    let _ = agent.wait();
}

/// The value of a one-series instant query now (0 without a series).
async fn count(h: &Http, q: &str) -> u64 {
    let v = h.get_json("/loki/api/v1/query", &[("query", q), ("time", &(now_ns() + 1_000_000_000).to_string())]).await;
    v["data"]["result"][0]["value"][1].as_str().map_or(0, |s| s.parse().unwrap())
}

/// `event` → count in `{app, source="docker"}`, as LogQL sees the agent's event lines.
async fn event_counts(h: &Http, app: &str, filter: &str) -> BTreeMap<String, u64> {
    let q = format!("sum by (event) (count_over_time({{app=\"{app}\", source=\"docker\"}} | logfmt {filter} [1h]))");
    let v = h.get_json("/loki/api/v1/query", &[("query", &q), ("time", &(now_ns() + 1_000_000_000).to_string())]).await;
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (s["metric"]["event"].as_str().unwrap_or("").to_string(), s["value"][1].as_str().unwrap().parse().unwrap())
        })
        .collect()
}

async fn wait_events(h: &Http, app: &str, filter: &str, want: &[(&str, u64)], within: Duration) {
    let want: BTreeMap<String, u64> = want.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    let deadline = Instant::now() + within;
    loop {
        let got = event_counts(h, app, filter).await;
        if want.iter().all(|(k, n)| got.get(k) == Some(n)) {
            return;
        }
        assert!(Instant::now() < deadline, "events of {app} {filter}: got {got:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A crash-looping container's lifecycle is recorded as log lines in its app's `source="docker"`
/// stream (what the crash-loop alert counts), with exit codes and OOM kills; events that happen
/// while Bitácora is down are recorded when it comes back, and none twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_events_are_log_lines() {
    if !docker_ready() {
        return;
    }
    let tag = format!("bt3-{}", std::process::id());
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let env =
        [("BITACORA_AGENT__INCLUDE_CONTAINERS", format!("{tag}-.*")), ("BITACORA_AGENT__BATCH_WAIT", "100ms".into())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut srv = Server::launch("run", data.path(), port, &env);
    let h = Http::new(&srv.addr);
    let crash = format!("{tag}-crash");
    let oom = format!("{tag}-oom");
    let stopped = format!("{tag}-stop");
    let _cleanup = Cleanup(vec![crash.clone(), oom.clone(), stopped.clone()]);
    // Exits with 3 at once; Docker restarts it twice: three starts, three deaths.
    run(&crash, &crash, &["--restart", "on-failure:2"], "echo boot; exit 3");
    wait_events(&h, &crash, "", &[("create", 1), ("start", 3), ("die", 3)], Duration::from_secs(60)).await;
    wait_events(&h, &crash, "| exit_code=\"3\" | oom=\"false\"", &[("die", 3)], Duration::from_secs(5)).await;
    // The stream is the app's and process type's, not the container's.
    let series =
        h.get_json("/loki/api/v1/series", &[("match[]", &format!("{{app=\"{crash}\", source=\"docker\"}}"))]).await;
    let series = series["data"].as_array().unwrap();
    assert_eq!(series.len(), 1, "{series:?}");
    assert_eq!(series[0]["process_type"], "web");
    assert!(series[0].get("container_name").is_none(), "{:?}", series[0]);

    // An OOM kill: 64 MB into a shell variable under a 16 MB limit (and no swap), in a
    // subshell whose status the container exits with a second later, as Dokku's herokuish
    // `/start` runs a command (when the only process dies at once, Docker sometimes learns of
    // the OOM after the exit or not at all).
    run(
        &oom,
        &oom,
        &["--memory", "16m", "--memory-swap", "16m"],
        "(x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo ${#x}); s=$?; sleep 1; exit $s",
    );
    wait_events(&h, &oom, "| oom=\"true\"", &[("die", 1)], Duration::from_secs(60)).await;

    // `docker stop`: SIGTERM, which a shell as PID 1 ignores, then SIGKILL a second later; exit
    // 137 like an OOM kill, but asked for: `stopped=true`, no crash.
    run(&stopped, &stopped, &[], "echo up; sleep 600");
    wait_events(&h, &stopped, "", &[("start", 1)], Duration::from_secs(30)).await;
    docker(&["stop", "-t", "1", &stopped]);
    wait_events(&h, &stopped, "| stopped=\"true\" | exit_code=\"137\"", &[("die", 1)], Duration::from_secs(30)).await;
    wait_events(&h, &crash, "| stopped=\"false\"", &[("die", 3)], Duration::from_secs(5)).await;

    // Down while the container crashes again (a manual start re-arms its restart policy):
    // recorded at the next start, exactly once each, as many as the engine itself reports.
    srv.terminate();
    docker(&["start", &crash]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = docker(&["inspect", "-f", "{{.State.Status}} {{.RestartCount}}", &crash]);
        if s == "exited 2" {
            break;
        }
        assert!(Instant::now() < deadline, "the container did not crash out again: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let until = format!("{}", now_ns() / 1_000_000_000 + 1);
    let engine = docker(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        &format!("container={crash}"),
        "--format",
        "{{.Action}}",
    ]);
    let count = |a: &str| engine.lines().filter(|l| *l == a).count() as u64;
    assert!(count("start") > 3, "the engine reports {} starts", count("start"));
    let want = [("create", count("create")), ("start", count("start")), ("die", count("die"))];
    let srv2 = Server::launch("run", data.path(), port, &env);
    let h = Http::new(&srv2.addr);
    wait_events(&h, &crash, "", &want, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    wait_events(&h, &crash, "", &want, Duration::from_secs(1)).await;
}

/// A Dokku-style deploy, as Dokku's scheduler does it: the new container starts as
/// `<app>.web.1.upcoming-<n>` from a new image beside the old one, the old one is renamed to
/// `<app>.web.1.<unixtime>`, the new one to `<app>.web.1`, and the old one is stopped. Their
/// lines stay in one stream per dyno and stream (told apart by the `container_id` metadata), and
/// the switch is one `event=deploy` line with both images and the time it took.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dokku_deploy_keeps_one_stream_and_records_the_deploy() {
    if !docker_ready() {
        return;
    }
    let tag = format!("bt4-{}", std::process::id());
    let data = tempfile::tempdir().unwrap();
    let env =
        [("BITACORA_AGENT__INCLUDE_CONTAINERS", format!("{tag}.*")), ("BITACORA_AGENT__BATCH_WAIT", "100ms".into())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let srv = Server::launch("run", data.path(), free_port(), &env);
    let h = Http::new(&srv.addr);
    let app = format!("{tag}-shop");
    let (old, upcoming, retired) =
        (format!("{app}.web.1"), format!("{app}.web.1.upcoming-4242"), format!("{app}.web.1.1796163789"));
    // The release being deployed: another image (its own id) made from the test image.
    let image2 = format!("bitacora-test:{tag}");
    let base = docker(&["create", IMAGE, "true"]);
    docker(&["commit", "--change", &format!("LABEL release={tag}"), &base, &image2]);
    docker(&["rm", &base]);
    struct Image(String);
    impl Drop for Image {
        fn drop(&mut self) {
            let _ = Command::new("docker").args(["rmi", "-f", &self.0]).stdout(Stdio::null()).status();
        }
    }
    let _image = Image(image2.clone());
    let _cleanup = Cleanup(vec![old.clone(), upcoming.clone(), retired.clone()]);
    let serve = |who: &str| {
        format!("i=0; while [ $i -lt 30 ]; do echo \"{who} $i\"; i=$((i+1)); usleep 50000; done; sleep 600")
    };
    let old_id = run(&old, &app, &[], &serve("old"));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let labels = dokku(&app);
    let mut args: Vec<&str> = vec!["run", "-d", "--name", &upcoming];
    args.extend(labels.iter().map(String::as_str));
    let script = serve("new");
    args.extend([image2.as_str(), "sh", "-c", &script]);
    let new_id = docker(&args);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    docker(&["rename", &old, &retired]);
    docker(&["rename", &upcoming, &old]);
    docker(&["stop", "-t", "1", &retired]);

    wait_events(&h, &app, "", &[("deploy", 1)], Duration::from_secs(60)).await;
    let since = now_ns() - 600_000_000_000;
    let deploys =
        h.all_lines(&format!("{{app=\"{app}\", source=\"docker\"}} |= \"event=deploy\""), since, now_ns()).await;
    assert_eq!(deploys.len(), 1, "{deploys:?}");
    let line = &deploys[0].1;
    let field = |k: &str| {
        line.split(' ').find_map(|p| p.strip_prefix(&format!("{k}="))).unwrap_or_else(|| panic!("no {k} in {line}"))
    };
    assert_eq!(field("container"), old, "{line}");
    assert_eq!((field("id"), field("old_id")), (&new_id[..12], &old_id[..12]), "{line}");
    assert_eq!((field("image"), field("old_image")), (image2.as_str(), IMAGE), "{line}");
    let image_id =
        |img: &str| docker(&["image", "inspect", "-f", "{{.Id}}", img]).trim_start_matches("sha256:")[..12].to_string();
    assert_eq!((field("image_id"), field("old_image_id")), (image_id(&image2).as_str(), image_id(IMAGE).as_str()));
    let took: f64 = field("took").trim_end_matches('s').parse().unwrap_or_else(|_| panic!("took in {line}"));
    assert!((1.0..30.0).contains(&took), "the new container ran 1.5 s and more before the switch: {line}");

    // Every line of both containers, in one stream, each with its container's id.
    let q = |filter: &str| format!("sum(count_over_time({{app=\"{app}\", source!=\"docker\"}} {filter} [1h]))");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let a = count(&h, &q(&format!("| container_id=\"{}\"", &old_id[..12]))).await;
        let b = count(&h, &q(&format!("| container_id=\"{}\"", &new_id[..12]))).await;
        if (a, b) == (30, 30) {
            break;
        }
        assert!(Instant::now() < deadline, "lines per container id: old {a}, new {b}; want 30 each");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let v = h.get_json("/loki/api/v1/series", &[("match[]", &format!("{{app=\"{app}\"}}")), ("since", "10m")]).await;
    let mut names: Vec<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| format!("{}/{}", s["source"].as_str().unwrap_or("-"), s["container_name"].as_str().unwrap_or("-")))
        .collect();
    names.sort();
    assert_eq!(names, vec!["-/".to_string() + &old, "docker/-".to_string()], "one stream of lines, one of events: {v}");
}

/// Real crash output (`crates/agent/tests/samples`, made by Go, Python, Java, Kotlin, Node and
/// Ruby) written to a container's stderr arrives as one entry per trace through `bitacora run`
/// with the default multiline settings, and those traces and a 5xx access line on stdout count
/// as errors (`detected_level="error"`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_traces_are_one_entry_and_errors() {
    if !docker_ready() {
        return;
    }
    let samples =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../agent/tests/samples").canonicalize().unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&samples)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "{files:?}");
    // Entries per sample: two `console.error(err)` calls; Ruby's cause printed after its error.
    let entries_of = |n: &str| if n == "node_logged.txt" || n == "ruby_chained.txt" { 2 } else { 1 };
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(samples.join(f)).unwrap().trim_end_matches('\n').to_string())
        .collect();
    let traces: usize = files.iter().map(|f| entries_of(f)).sum();

    let tag = format!("bt5-{}", std::process::id());
    let data = tempfile::tempdir().unwrap();
    let env =
        [("BITACORA_AGENT__INCLUDE_CONTAINERS", format!("{tag}-.*")), ("BITACORA_AGENT__BATCH_WAIT", "100ms".into())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let srv = Server::launch("run", data.path(), free_port(), &env);
    let h = Http::new(&srv.addr);
    let app = format!("{tag}-ml");
    let _cleanup = Cleanup(vec![app.clone()]);
    let mount = format!("{}:/samples:ro", samples.display());
    let script = r#"echo starting
for f in /samples/*.txt; do cat "$f" >&2; echo "--- next sample" >&2; done
echo '172.17.0.1 - - [02/Dec/2026:07:00:01 +0000] "GET /cart HTTP/1.1" 502 157 "-" "curl/8.5.0"'
echo '172.17.0.1 - - [02/Dec/2026:07:00:02 +0000] "GET /info HTTP/1.1" 200 157 "-" "curl/8.5.0"'
sleep 3600"#;
    let t0 = now_ns() - 60_000_000_000;
    run(&app, &app, &["-v", &mount], script);

    let q = format!("{{app=\"{app}\", stream=\"stderr\"}}");
    let want = traces + files.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    let lines = loop {
        let lines: Vec<String> =
            h.all_lines(&q, t0, now_ns() + 1_000_000_000).await.into_iter().map(|(_, l)| l).collect();
        if lines.len() >= want && lines.last().is_some_and(|l| l == "--- next sample") {
            break lines;
        }
        assert!(Instant::now() < deadline, "{} of {want} stderr entries: {lines:#?}", lines.len());
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(lines.len(), want, "{lines:#?}");
    let expected: Vec<&str> = texts.iter().flat_map(|t| [t.as_str(), "--- next sample"]).collect();
    assert_eq!(lines.join("\n"), expected.join("\n"), "every line, in order");
    for (f, t) in files.iter().zip(&texts) {
        if entries_of(f) == 1 {
            assert_eq!(lines.iter().filter(|l| *l == t).count(), 1, "{f} is one entry");
        }
    }

    // Every trace and the 502 line are errors; the 200 line, "starting" and the separators not.
    let q = format!("sum(count_over_time({{app=\"{app}\"}} | detected_level=\"error\" [5m]))");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v =
            h.get_json("/loki/api/v1/query", &[("query", &q), ("time", &(now_ns() + 1_000_000_000).to_string())]).await;
        let got = v["data"]["result"][0]["value"][1].as_str().map(|s| s.parse::<usize>().unwrap());
        if got == Some(traces + 1) {
            break;
        }
        assert!(Instant::now() < deadline, "errors: got {got:?}, want {}: {v}", traces + 1);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let q = format!("{{app=\"{app}\", stream=\"stdout\"}} | detected_level=\"error\"");
    let stdout_errors = h.all_lines(&q, t0, now_ns() + 1_000_000_000).await;
    assert_eq!(stdout_errors.len(), 1, "{stdout_errors:?}");
    assert!(stdout_errors[0].1.contains("\" 502 "), "{stdout_errors:?}");
}
