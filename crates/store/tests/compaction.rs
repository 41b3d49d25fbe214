//! Compaction on a real data directory: many small segments merged into few, nothing lost or
//! doubled, duplicates removed, files open bounded, and every crash state it can leave behind
//! (outputs written but not committed, committed but not renamed, renamed but inputs not yet
//! deleted) recovered at the next start.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use model::{Entry, Labels, MatchOp, Matcher};
use prometheus_client::registry::Registry;
use store::{Limits, PushStatus, PushStream, ReadStats, Select, Store, StoreConfig, TenantLimits, now_ns};

fn open(dir: &Path) -> Store {
    let limits = Limits { discover_service_name: vec![], ingestion_rate_mb: 0.0, ..Default::default() };
    let cfg = StoreConfig { compaction_interval: "0s".parse().unwrap(), ..Default::default() };
    Store::open(dir, cfg, limits, &mut Registry::default()).unwrap()
}

fn labels(app: &str) -> Labels {
    Labels::from_pairs([("app", app)]).unwrap()
}

/// Entries per tenant and app, counted from the blocks' columns (no deduplication there, so
/// a segment served twice would count twice) and from the merged log reader.
fn counts(s: &Store, tenant: &str, app: &str) -> (usize, usize) {
    let q = Select {
        tenant: tenant.into(),
        matchers: vec![Matcher::new("app", MatchOp::Eq, app).unwrap()],
        start: 0,
        end: i64::MAX,
        direction: model::Direction::Forward,
        required_substrings: vec![],
        required_any_case: vec![],
        line_filter: None,
        summaries: None,
        take: None,
    };
    let stats = Arc::new(ReadStats::default());
    let columns = s.select_stats(&q, stats.clone()).into_iter().map(|(_, r)| r.count()).sum();
    let lines = s.select(&q, stats.clone()).into_iter().map(|(_, r)| r.count()).sum();
    assert_eq!(stats.corrupt_blocks.load(std::sync::atomic::Ordering::Relaxed), 0);
    (columns, lines)
}

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for day in std::fs::read_dir(dir.join("segments")).unwrap().flatten() {
        for f in std::fs::read_dir(day.path()).unwrap().flatten() {
            if f.file_name().to_string_lossy().ends_with(suffix) {
                out.push(f.path());
            }
        }
    }
    out.sort();
    out
}

/// The first timestamp written: an hour ago, rounded to the hour.
fn base() -> i64 {
    let hour = 3_600_000_000_000;
    (now_ns() - hour) / hour * hour
}

/// 40 flushes of two tenants and three apps, each flush its own segment.
fn fill(s: &Store) -> usize {
    let base = base();
    let mut n = 0;
    for round in 0..40i64 {
        for tenant in ["t1", "t2"] {
            for app in ["a", "b", "c"] {
                let entries: Vec<Entry> = (0..50)
                    .map(|i| Entry::new(base + round * 1_000_000 + i, format!("{tenant} {app} round {round} line {i}")))
                    .collect();
                n += entries.len();
                let out = s.push(tenant, vec![PushStream { labels: labels(app), entries }]).unwrap();
                assert_eq!(out.status, PushStatus::Ok, "{}", out.message);
            }
        }
        s.flush().unwrap();
    }
    n
}

#[test]
fn small_segments_merge_and_nothing_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    let total = fill(&s);
    assert_eq!(total, 40 * 2 * 3 * 50);
    assert_eq!(s.segment_count(), 40);
    // A duplicate of a flushed entry, pushed again and flushed: stored twice until compaction.
    let base = base();
    s.push("t1", vec![PushStream { labels: labels("a"), entries: vec![Entry::new(base, "t1 a round 0 line 0")] }])
        .unwrap();
    s.flush().unwrap();
    assert_eq!(counts(&s, "t1", "a"), (40 * 50 + 1, 40 * 50));

    let c = s.compact().unwrap();
    assert!(c.inputs >= 40, "{c:?}");
    assert!(s.segment_count() <= 4, "{} segments left", s.segment_count());
    for tenant in ["t1", "t2"] {
        for app in ["a", "b", "c"] {
            assert_eq!(counts(&s, tenant, app), (2000, 2000), "{tenant}/{app}");
        }
    }
    // One output per tenant, inputs deleted once nobody reads them.
    assert_eq!(files(tmp.path(), ".seg").len(), s.segment_count());
    assert!(files(tmp.path(), ".tmp").is_empty());
    assert!(s.open_segment_files() <= 128);
    drop(s);
    let s = open(tmp.path());
    assert_eq!(counts(&s, "t2", "c"), (2000, 2000));
    // Nothing left to do.
    assert_eq!(s.compact().unwrap().inputs, 0);
}

/// Copies every file of the segments folder aside, to put back later (a crash "before").
fn save(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files(dir, ".seg").into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

fn restore(saved: &[(PathBuf, Vec<u8>)]) {
    for (p, b) in saved {
        std::fs::write(p, b).unwrap();
    }
}

#[test]
fn a_crash_after_the_commit_point_is_finished_at_start() {
    // Renamed outputs with the inputs still there (crash before the inputs were deleted).
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    fill(&s);
    let inputs = save(tmp.path());
    s.compact().unwrap();
    drop(s);
    restore(&inputs);
    assert!(!files(tmp.path(), ".manifest").is_empty(), "the manifest outlives the inputs");
    let s = open(tmp.path());
    assert!(s.segment_count() <= 4, "inputs deleted by recovery, not served twice: {}", s.segment_count());
    assert_eq!(counts(&s, "t1", "b"), (2000, 2000));
    assert!(files(tmp.path(), ".manifest").is_empty());
    drop(s);

    // Outputs synced under their temporary names, manifest written, nothing renamed yet.
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    fill(&s);
    let inputs = save(tmp.path());
    s.compact().unwrap();
    drop(s);
    for out in files(tmp.path(), ".seg") {
        std::fs::rename(&out, format!("{}.tmp", out.display())).unwrap();
    }
    restore(&inputs);
    let s = open(tmp.path());
    assert!(s.segment_count() <= 4);
    assert_eq!(counts(&s, "t2", "a"), (2000, 2000));
    assert!(files(tmp.path(), ".tmp").is_empty());
}

#[test]
fn a_crash_before_the_commit_point_keeps_the_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    fill(&s);
    let inputs = save(tmp.path());
    s.compact().unwrap();
    drop(s);
    // Back to: inputs in place, outputs written under temporary names, no manifest.
    for out in files(tmp.path(), ".seg") {
        std::fs::rename(&out, format!("{}.tmp", out.display())).unwrap();
    }
    for m in files(tmp.path(), ".manifest") {
        std::fs::remove_file(m).unwrap();
    }
    restore(&inputs);
    let s = open(tmp.path());
    assert_eq!(s.segment_count(), 40);
    assert_eq!(counts(&s, "t1", "c"), (2000, 2000));
    assert!(files(tmp.path(), ".tmp").is_empty());
}

#[test]
fn open_files_stay_bounded_with_hundreds_of_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path());
    let base = now_ns() - 3_600_000_000_000;
    for i in 0..600i64 {
        let e = vec![Entry::new(base + i, format!("line {i}"))];
        s.push("fake", vec![PushStream { labels: labels(&format!("app{}", i % 7)), entries: e }]).unwrap();
        s.flush().unwrap();
    }
    assert_eq!(s.segment_count(), 600);
    let total: usize = (0..7).map(|a| counts(&s, "fake", &format!("app{a}")).1).sum();
    assert_eq!(total, 600);
    let fds = std::fs::read_dir("/proc/self/fd").unwrap().count();
    assert!(fds < 300, "{fds} descriptors open with 600 segments");
    assert!(s.open_segment_files() <= 128);
    s.compact().unwrap();
    assert!(s.segment_count() < 10, "{}", s.segment_count());
    assert_eq!(files(tmp.path(), ".seg").len(), s.segment_count(), "inputs deleted");
    let total: usize = (0..7).map(|a| counts(&s, "fake", &format!("app{a}")).1).sum();
    assert_eq!(total, 600);
}

#[test]
fn compaction_files_entries_by_day_so_retention_can_drop_old_days() {
    // A backfill: every flush mixes lines from ten days ago with today's, so no flushed
    // segment is ever wholly older than the retention period.
    let tmp = tempfile::tempdir().unwrap();
    let limits = Limits {
        discover_service_name: vec![],
        ingestion_rate_mb: 0.0,
        reject_old_samples: false,
        ..Default::default()
    };
    let cfg = StoreConfig {
        compaction_interval: "0s".parse().unwrap(),
        retention_period: "3d".parse().unwrap(),
        out_of_order_window: "30d".parse().unwrap(),
        ..Default::default()
    };
    let s = Store::open(tmp.path(), cfg, limits, &mut Registry::default()).unwrap();
    let now = now_ns();
    let day = 86_400_000_000_000i64;
    for round in 0..8i64 {
        let old: Vec<Entry> =
            (0..20).map(|i| Entry::new(now - 10 * day + round * 100 + i, format!("old {round} {i}"))).collect();
        let new: Vec<Entry> =
            (0..20).map(|i| Entry::new(now - 60_000_000_000 + round * 100 + i, format!("new {round} {i}"))).collect();
        s.push("fake", vec![PushStream { labels: labels("backfill"), entries: old }]).unwrap();
        s.push("fake", vec![PushStream { labels: labels("live"), entries: new }]).unwrap();
        s.flush().unwrap();
    }
    assert_eq!(s.apply_retention(now), 0, "every flushed segment holds today's lines too");
    s.compact().unwrap();
    assert!(s.apply_retention(now) >= 1, "the old day's output expires whole");
    assert_eq!(counts(&s, "fake", "backfill"), (0, 0));
    assert_eq!(counts(&s, "fake", "live"), (160, 160));
}

/// The cold tier: segments whose data is older than `cold_after` are rewritten once at the cold
/// level, smaller, with every entry kept; fresh data is left at the levels it was written at.
#[test]
fn cold_segments_are_rewritten_once_at_the_cold_level() {
    let tmp = tempfile::tempdir().unwrap();
    let limits = Limits { discover_service_name: vec![], ingestion_rate_mb: 0.0, ..Default::default() };
    let hot = StoreConfig {
        compaction_interval: "0s".parse().unwrap(),
        cold_after: "0s".parse().unwrap(),
        ..Default::default()
    };
    let s = Store::open(tmp.path(), hot.clone(), limits.clone(), &mut Registry::default()).unwrap();
    // Lines an hour old with some repetition across them (what a stronger level finds).
    let base = base();
    let mut x = 7u64;
    for round in 0..12i64 {
        let entries: Vec<Entry> = (0..2000)
            .map(|i| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let line = format!(
                    "level=info method=GET path=/api/orders/{} status=200 duration={}ms request_id={:08x} user=u{}",
                    x % 500,
                    (x >> 20) % 900,
                    (x >> 8) as u32,
                    (x >> 40) % 50
                );
                Entry::new(base + round * 10_000_000 + i, line)
            })
            .collect();
        s.push("t1", vec![PushStream { labels: labels("a"), entries }]).unwrap();
        s.flush().unwrap();
    }
    s.compact().unwrap();
    let levels = s.segment_levels();
    assert!(levels.iter().all(|l| *l == Some(7)), "compacted at the compaction level: {levels:?}");
    let hot_bytes = s.segment_bytes();
    // Fresh data beside it: a flush of now.
    let now = now_ns();
    s.push("t1", vec![PushStream { labels: labels("a"), entries: vec![Entry::new(now, "fresh line")] }]).unwrap();
    s.flush().unwrap();
    let fresh_bytes = s.segment_bytes() - hot_bytes;

    // Cold after 30 minutes: the hour-old segments are rewritten at level 19, the fresh one not.
    s.reconfigure(
        StoreConfig { cold_after: "30m".parse().unwrap(), cold_zstd_level: 19, ..hot },
        TenantLimits::uniform(limits.clone()),
    );
    let c = s.compact().unwrap();
    assert!(c.inputs >= 1 && c.outputs >= 1, "{c:?}");
    let mut levels = s.segment_levels();
    levels.sort();
    assert_eq!(levels.iter().filter(|l| **l == Some(19)).count(), c.outputs, "{levels:?}");
    assert!(levels.contains(&Some(1)), "the fresh segment keeps its level: {levels:?}");
    let cold_bytes = s.segment_bytes() - fresh_bytes;
    assert!(cold_bytes < hot_bytes, "level 19 ({cold_bytes} bytes) is smaller than level 7 ({hot_bytes})");
    assert_eq!(counts(&s, "t1", "a"), (12 * 2000 + 1, 12 * 2000 + 1));
    // Rewritten once: nothing more to do, before and after a restart.
    assert_eq!(s.compact().unwrap().inputs, 0);
    let cfg = s.config();
    drop(s);
    let s = Store::open(tmp.path(), (*cfg).clone(), limits, &mut Registry::default()).unwrap();
    assert_eq!(s.compact().unwrap().inputs, 0);
    assert_eq!(counts(&s, "t1", "a"), (12 * 2000 + 1, 12 * 2000 + 1));
    assert!(s.segment_levels().contains(&Some(19)));
}

/// A reload that shortens `compaction_interval` (from a day, or from paused) takes effect at
/// once, not when the interval it replaced would have ended.
#[test]
fn a_reload_to_a_shorter_interval_compacts_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let limits = Limits { discover_service_name: vec![], ingestion_rate_mb: 0.0, ..Default::default() };
    let cfg = StoreConfig { compaction_interval: "24h".parse().unwrap(), ..Default::default() };
    let s = Arc::new(Store::open(tmp.path(), cfg.clone(), limits.clone(), &mut Registry::default()).unwrap());
    let _bg = s.spawn_background();
    fill(&s);
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(s.segment_count(), 40, "not due for a day");
    s.reconfigure(StoreConfig { compaction_interval: "1s".parse().unwrap(), ..cfg }, TenantLimits::uniform(limits));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while s.segment_count() > 4 {
        assert!(std::time::Instant::now() < deadline, "{} segments after the reload", s.segment_count());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(counts(&s, "t2", "c"), (2000, 2000));
}
