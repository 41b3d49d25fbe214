//! Loki's own LogQL conformance scripts (`../shared/conformance/logqltest`, or
//! LOGQL_CONFORMANCE_DIR), loaded through the real store on disk and evaluated by the engine the
//! API uses: every `eval` must pass.

use std::sync::Arc;

use logql::LogSource;
use prometheus_client::registry::Registry;

fn dir() -> Option<std::path::PathBuf> {
    let d = std::env::var("LOGQL_CONFORMANCE_DIR").map(std::path::PathBuf::from).unwrap_or_else(|_| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/logqltest")
    });
    if d.is_dir() {
        return Some(d);
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs the conformance scripts at {}", d.display());
    eprintln!("SKIPPED: no conformance scripts at {}", d.display());
    None
}

#[test]
fn logqltest_scripts_pass_through_the_real_store() {
    let Some(dir) = dir() else { return };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "logqltest"))
        .collect();
    files.sort();
    assert!(files.len() >= 9, "expected Loki's 9 scripts in {}", dir.display());
    let tmp = tempfile::tempdir().unwrap();
    let mut n = 0;
    let (mut passed, mut failed) = (0usize, Vec::new());
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let mut load = |streams: Vec<(model::Labels, Vec<model::Entry>)>| -> Box<dyn LogSource> {
            n += 1;
            // The scripts run Loki without service_name/detected_level discovery, with old data.
            let limits = store::Limits {
                discover_service_name: vec![],
                discover_log_levels: false,
                reject_old_samples: false,
                ingestion_rate_mb: 0.0,
                max_global_streams_per_user: 0,
                ..Default::default()
            };
            let cfg = store::StoreConfig {
                wal_fsync: false,
                out_of_order_window: "100000d".parse().unwrap(),
                retention_period: "0s".parse().unwrap(),
                ..Default::default()
            };
            let s =
                store::Store::open(&tmp.path().join(format!("s{n}")), cfg, limits, &mut Registry::default()).unwrap();
            let batch: Vec<store::PushStream> =
                streams.into_iter().map(|(labels, entries)| store::PushStream { labels, entries }).collect();
            if !batch.is_empty() {
                let out = s.push("fake", batch).unwrap();
                assert_eq!(out.status, store::PushStatus::Ok, "{}", out.message);
                // Half the data in a segment, so both read paths are exercised.
                if n % 2 == 0 {
                    s.flush().unwrap();
                }
            }
            Box::new(api::StoreSource {
                store: Arc::new(s),
                tenant: "fake".into(),
                stats: Default::default(),
                deletes: deletes::Deletes::none(),
            })
        };
        let report = logql::run_conformance_script(&text, &mut load);
        passed += report.passed;
        for fl in report.failed {
            failed.push(format!(
                "{}:{} {} — {}",
                f.file_name().unwrap().to_string_lossy(),
                fl.line,
                fl.query,
                fl.reason
            ));
        }
        for e in report.errors {
            failed.push(format!("{}: {e}", f.file_name().unwrap().to_string_lossy()));
        }
    }
    println!("conformance through the store: {passed} passed, {} failed", failed.len());
    assert!(failed.is_empty(), "failures:\n{}", failed.join("\n"));
    assert!(passed >= 1095, "only {passed} evals ran");
}
