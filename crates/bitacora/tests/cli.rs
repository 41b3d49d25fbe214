//! The command line's own errors: a bad configuration names the key and the problem, an
//! unwritable data directory says how to fix it.

use std::process::Command;

fn bitacora(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bitacora"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn bad_configuration_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("bitacora.yaml");
    std::fs::write(&cfg, "listen: 127.0.0.1:0\nstore:\n  retention_period: forever\n").unwrap();
    let (ok, err) = bitacora(&["server", "--config", cfg.to_str().unwrap()], &[]);
    assert!(!ok);
    assert!(err.contains("retention_period") || err.contains("line 3"), "{err}");
    assert!(err.contains("not a valid duration"), "{err}");
    std::fs::write(&cfg, "listen: 127.0.0.1:0\nstore:\n  retention: 7d\n").unwrap();
    let (ok, err) = bitacora(&["server", "--config", cfg.to_str().unwrap()], &[]);
    assert!(!ok);
    assert!(err.contains("unknown field `retention`"), "{err}");
    let (ok, err) = bitacora(&["server"], &[("BITACORA_STORE__FLUSH_BYTES", "lots")]);
    assert!(!ok);
    assert!(err.contains("BITACORA_STORE__FLUSH_BYTES") && err.contains("expected a number"), "{err}");
    let (ok, err) = bitacora(&["server"], &[("BITACORA_STORE__RETENTON", "7d")]);
    assert!(!ok);
    assert!(err.contains("unknown key \"store.retenton\""), "{err}");
}

#[test]
fn unwritable_data_dir_says_how_to_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let (ok, err) = bitacora(&["server", "--listen", "127.0.0.1:0", "--data-dir", file.to_str().unwrap()], &[]);
    assert!(!ok);
    assert!(err.contains("data directory") && err.contains("--data-dir"), "{err}");
}
