//! Keeping it running: `bitacora check-config`, `SIGHUP` reloads (retention changed while
//! running, a bad file refused without stopping), and snapshots taken under push load and
//! served by a server started on them.

mod common;

use std::collections::HashSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Http, Server, free_port, now_ns};
use serde_json::json;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_bitacora")
}

#[test]
fn check_config_names_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, "store:\n  retention_period: 14d\nagent:\n  exclude_containers: ['^tmp-']\n").unwrap();
    let out = Command::new(bin()).args(["check-config", "--config"]).arg(&good).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("configuration OK"));

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "store:\n  retention_period: 7x\nlimits:\n  max_line_size: lots\nnonsense: 1\n").unwrap();
    let out = Command::new(bin()).args(["check-config", "--config"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for want in ["store.retention_period", "limits.max_line_size", "unknown key \"nonsense\"", "3 problem(s)"] {
        assert!(err.contains(want), "{want} missing from: {err}");
    }
    let bad = dir.path().join("bad2.yaml");
    std::fs::write(&bad, "store:\n  zstd_level: 40\nagent:\n  include_containers: ['(unclosed']\n").unwrap();
    let out = Command::new(bin()).args(["check-config", "--config"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("store.zstd_level: 40 is not a zstd level"), "{err}");
    assert!(err.contains("bad container filter \"(unclosed\""), "{err}");
    // The environment is checked too.
    let out = Command::new(bin())
        .args(["check-config", "--config"])
        .arg(&good)
        .env("BITACORA_STORE__FLUSH_BYTES", "many")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BITACORA_STORE__FLUSH_BYTES"));
}

/// Rule files and the notifier's file are checked too (as `promtool check rules` and
/// `amtool check-config` would), each problem naming its file, rule and field.
#[test]
fn check_config_checks_rule_files_and_the_notifier_file() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules").join("fake");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("ok.yaml"),
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(count_over_time({app=\"a\"}[5m])) > 1\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("shop.yaml"),
        "groups:\n- name: shop\n  rules:\n  - alert: Broken\n    expr: sum(rate({app=\"shop\"}[5m]) >\n",
    )
    .unwrap();
    let notify = dir.path().join("notify.yml");
    std::fs::write(&notify, "route:\n  receiver: nobody\nreceivers:\n  - name: team\n").unwrap();
    let cfg = dir.path().join("bitacora.yaml");
    std::fs::write(
        &cfg,
        format!(
            "ruler:\n  rules_dir: {}\nalerting:\n  alertmanager_config: {}\n",
            dir.path().join("rules").display(),
            notify.display()
        ),
    )
    .unwrap();
    let out = Command::new(bin()).args(["check-config", "--config"]).arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("shop.yaml") && err.contains("Broken") && err.contains("expr"), "{err}");
    assert!(!err.contains("ok.yaml"), "{err}");
    assert!(err.contains("alerting.alertmanager_config") && err.contains("nobody"), "{err}");
    std::fs::remove_file(rules.join("shop.yaml")).unwrap();
    std::fs::write(&notify, "route:\n  receiver: team\nreceivers:\n  - name: team\n").unwrap();
    let out = Command::new(bin()).args(["check-config", "--config"]).arg(&cfg).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn sighup(pid: u32) {
    assert!(Command::new("kill").args(["-HUP", &pid.to_string()]).status().unwrap().success());
}

#[tokio::test]
async fn sighup_changes_retention_and_refuses_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bitacora.yaml");
    let write = |retention: &str| {
        std::fs::write(&cfg, format!("store:\n  retention_period: {retention}\nlimits:\n  reject_old_samples: false\n"))
            .unwrap()
    };
    write("30d");
    let data = dir.path().join("data");
    let srv = Server::launch("server", &data, free_port(), &[("BITACORA_CONFIG", cfg.to_str().unwrap())]);
    let h = Http::new(&srv.addr);
    let day = 86_400_000_000_000i64;
    let old = now_ns() - 10 * day;
    let body = json!({"streams": [{"stream": {"app": "old"}, "values": [[old.to_string(), "ten days ago"]]}]});
    assert_eq!(h.push_json(&body).await.0, 204);
    assert_eq!(h.post("/flush", &[], vec![]).await.0, 204);
    let lines = || async { h.all_lines("{app=\"old\"}", old - 1, now_ns()).await.len() };
    assert_eq!(lines().await, 1);

    // A bad file: refused, the server goes on with what it has.
    std::fs::write(&cfg, "store:\n  retention_period: soon\n").unwrap();
    sighup(srv.child.id());
    tokio::time::sleep(Duration::from_millis(500)).await;
    // (/config prints durations as Prometheus does: 30d is 4w2d, 7d is 1w.)
    assert!(h.get("/config", &[]).await.1.contains("retention_period: 4w2d"));
    assert_eq!(lines().await, 1);

    write("7d");
    sighup(srv.child.id());
    let deadline = Instant::now() + Duration::from_secs(15);
    while lines().await != 0 {
        assert!(Instant::now() < deadline, "retention of 7d did not remove a 10-day-old line");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let config = h.get("/config", &[]).await.1;
    assert!(config.contains("retention_period: 1w"), "{config}");
}

#[tokio::test]
async fn sighup_applies_a_tenants_overrides_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bitacora.yaml");
    std::fs::write(&cfg, "api:\n  auth_enabled: true\n").unwrap();
    let srv =
        Server::launch("server", &dir.path().join("data"), free_port(), &[("BITACORA_CONFIG", cfg.to_str().unwrap())]);
    let h = Http::new(&srv.addr);
    let push = |tenant: &'static str| {
        let h = &h;
        async move {
            let body = json!({"streams": [{"stream": {"app": "o"}, "values": [[now_ns().to_string(), "a line of thirty characters.."]]}]});
            let headers = [("Content-Type", "application/json"), ("X-Scope-OrgID", tenant)];
            h.post("/loki/api/v1/push", &headers, serde_json::to_vec(&body).unwrap()).await
        }
    };
    assert_eq!(push("team-a").await.0, 204);

    // team-a gets a line size of its own: its pushes are held to it at once, team-b's are not.
    std::fs::write(&cfg, "api:\n  auth_enabled: true\noverrides:\n  team-a:\n    max_line_size: 10\n").unwrap();
    sighup(srv.child.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (s, text) = push("team-a").await;
        if s == 400 {
            assert!(text.contains("max entry size '10' bytes exceeded"), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "the override was not applied: {s} {text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(push("team-b").await.0, 204);

    // A bad override: the reload is refused, the running limits stay.
    std::fs::write(&cfg, "api:\n  auth_enabled: true\noverrides:\n  team-a:\n    max_line_size: big\n").unwrap();
    sighup(srv.child.id());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(push("team-a").await.0, 400);
    assert_eq!(push("team-b").await.0, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_under_push_load_is_served_whole() {
    let srv = Server::start(&[("BITACORA_STORE__FLUSH_BYTES", "100000")]);
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let base = now_ns() - 60_000_000_000;
    let mut tasks = Vec::new();
    for w in 0..2i64 {
        let (acked, stop, addr) = (acked.clone(), stop.clone(), srv.addr.clone());
        tasks.push(tokio::spawn(async move {
            let h = Http::new(&addr);
            let mut n = 0i64;
            while !stop.load(Ordering::Relaxed) {
                let lines: Vec<String> = (0..20).map(|i| format!("w{w} n{} {}", n + i, "x".repeat(200))).collect();
                let values: Vec<_> = lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| json!([(base + w * 1_000_000_000 + (n + i as i64) * 1000).to_string(), l]))
                    .collect();
                let body = json!({"streams": [{"stream": {"app": "snap", "w": w.to_string()}, "values": values}]});
                assert_eq!(h.push_json(&body).await.0, 204);
                acked.lock().unwrap().extend(lines);
                n += 20;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before: HashSet<String> = acked.lock().unwrap().iter().cloned().collect();
    let h = Http::new(&srv.addr);
    let (status, body) = h.post("/api/v1/admin/snapshot", &[], vec![]).await;
    let after: HashSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "success");
    let name = v["data"]["name"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let (status, text) = h.post("/api/v1/admin/snapshot?name=../x", &[], vec![]).await;
    assert_eq!(status, 400, "{text}");

    // A server on the snapshot serves what was acknowledged before it, once, and nothing that
    // was never acknowledged.
    let snap = srv.dir.join("snapshots").join(&name);
    let copy = tempfile::tempdir().unwrap();
    assert!(
        Command::new("cp").arg("-a").arg(format!("{}/.", snap.display())).arg(copy.path()).status().unwrap().success()
    );
    let s2 = Server::start_in(copy.path(), &[]);
    let got = Http::new(&s2.addr).all_lines("{app=\"snap\"}", base - 1, now_ns()).await;
    let got_set: HashSet<&str> = got.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(got_set.len(), got.len(), "no line twice");
    assert!(before.len() > 100, "{} lines before the snapshot", before.len());
    let missing = before.iter().filter(|l| !got_set.contains(l.as_str())).count();
    assert_eq!(missing, 0, "lines acknowledged before the snapshot are in it");
    // Pushes in flight at the snapshot may be in it (durable before it, their 204 on its way),
    // so the snapshot is within what was acknowledged by the end, and holds nothing else.
    let all: HashSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(after.len() <= all.len());
    let extra = got_set.iter().filter(|l| !all.contains(**l)).count();
    assert_eq!(extra, 0, "nothing that was never acknowledged");
}
