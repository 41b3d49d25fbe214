//! Runs Loki's `.logqltest` conformance scripts (read by path, never copied) through the engine
//! over `MemorySource`.

use std::path::PathBuf;

use logql::MemorySource;
use logql::run_conformance_script;

/// The number of evaluations known to pass; the test fails if fewer pass (no regressions).
const MIN_PASSED: usize = 1095;

fn dir() -> Option<PathBuf> {
    let d = match std::env::var("LOGQL_CONFORMANCE_DIR") {
        Ok(d) => PathBuf::from(d),
        Err(_) => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/logqltest"),
    };
    d.is_dir().then_some(d)
}

#[test]
fn logql_conformance() {
    let Some(dir) = dir() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("conformance scripts not found (set LOGQL_CONFORMANCE_DIR)");
        }
        eprintln!("conformance scripts not found; skipping");
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "logqltest"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .logqltest files in {}", dir.display());
    let (mut passed, mut failed, mut panics) = (0, 0, 0);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let r = run_conformance_script(&text, &mut |streams| Box::new(MemorySource::from_streams(streams)));
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        for e in &r.errors {
            println!("SCRIPT ERROR {name}: {e}");
        }
        for fl in &r.failed {
            if fl.reason == "PANIC" {
                panics += 1;
            }
            println!("FAIL {name}:{} {}\n     {}", fl.line, fl.query, fl.reason);
        }
        println!("{name}: {} passed, {} failed", r.passed, r.failed.len() + r.errors.len());
        passed += r.passed;
        failed += r.failed.len() + r.errors.len();
    }
    println!("conformance: {passed} passed, {failed} failed");
    assert_eq!(panics, 0, "the engine panicked");
    assert!(passed >= MIN_PASSED, "conformance regressed: {passed} passed < {MIN_PASSED}");
}
