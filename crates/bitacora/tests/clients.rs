//! Real Loki clients against a real server: python-logging-loki (PyPI) and the `bitacora query`
//! and `bitacora labels` command line.

mod common;

use std::process::Command;

use common::{Http, Server, now_ns};

#[tokio::test]
async fn python_logging_loki_pushes_and_we_read_back() {
    let srv = Server::start(&[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/push_loki.py");
    let before = now_ns();
    let out = Command::new("python3")
        .args([script, &srv.url("/loki/api/v1/push"), "50", "run1"])
        .output()
        .expect("python3 must be installed");
    assert!(
        out.status.success(),
        "python-logging-loki failed (scripts/test.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let h = Http::new(&srv.addr);
    let lines = h.all_lines("{app=\"pyclient\", run=\"run1\"}", before - 1_000_000_000, now_ns() + 1_000_000_000).await;
    assert_eq!(lines.len(), 50);
    let mut texts: Vec<&str> = lines.iter().map(|l| l.1.as_str()).collect();
    texts.sort();
    let mut want: Vec<String> = (0..50).map(|i| format!("python line {i} of run1")).collect();
    want.sort();
    assert_eq!(texts, want);
    // The library's own labels arrive as stream labels.
    let v = h.get_json("/loki/api/v1/label/severity/values", &[("since", "5m")]).await;
    assert_eq!(v["data"], serde_json::json!(["error", "info"]));
    let v = h.get_json("/loki/api/v1/label/worker/values", &[("since", "5m")]).await;
    assert_eq!(v["data"], serde_json::json!(["0", "1", "2"]));

    // The command line client reads the same lines.
    let out = Command::new(env!("CARGO_BIN_EXE_bitacora"))
        .args(["query", "{app=\"pyclient\"} |= \"line 7 \"", "--addr", &srv.addr, "--since", "10m", "--output", "raw"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "python line 7 of run1");
    let out =
        Command::new(env!("CARGO_BIN_EXE_bitacora")).args(["labels", "app", "--addr", &srv.addr]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "pyclient");
    let out =
        Command::new(env!("CARGO_BIN_EXE_bitacora")).args(["query", "{app=", "--addr", &srv.addr]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("parse error"), "{}", String::from_utf8_lossy(&out.stderr));
}
