//! Upgrades and snapshots: a data directory made by format 1 (a fixture written by this
//! release, segments and WAL) is read by every later release; a newer one is refused untouched;
//! a snapshot taken while pushing holds exactly what was acknowledged before it.

use std::path::Path;
use std::sync::Arc;

use model::{Entry, Labels, MatchOp, Matcher};
use prometheus_client::registry::Registry;
use store::{Limits, PushStream, ReadStats, Select, Store, StoreConfig};

/// Timestamp, line, structured metadata.
type Row = (i64, String, Vec<(String, String)>);

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format-1");
/// 2026-12-02T00:00:00Z: the fixture's first timestamp.
const T0: i64 = 1_796_169_600_000_000_000;

fn open(dir: &Path) -> Store {
    let limits = Limits {
        discover_service_name: vec![],
        ingestion_rate_mb: 0.0,
        reject_old_samples: false,
        discover_log_levels: false,
        ..Default::default()
    };
    Store::open(dir, StoreConfig::default(), limits, &mut Registry::default()).unwrap()
}

fn lines(s: &Store, app: &str) -> Vec<Row> {
    search(s, app, "").0
}

/// An app's lines holding `needle` (every line when it is empty), and the blocks skipped and
/// read.
fn search(s: &Store, app: &str, needle: &str) -> (Vec<Row>, [u64; 2]) {
    let q = Select {
        tenant: "fake".into(),
        matchers: vec![Matcher::new("app", MatchOp::Eq, app).unwrap()],
        start: 0,
        end: i64::MAX,
        direction: model::Direction::Forward,
        required_substrings: vec![needle.to_string()],
        required_any_case: vec![],
        line_filter: None,
        summaries: None,
        take: None,
    };
    let stats = Arc::new(ReadStats::default());
    let rows = s
        .select(&q, stats.clone())
        .into_iter()
        .flat_map(|(_, r)| r.map(|e| (e.ts, e.line, e.metadata.to_vec())))
        .collect();
    let n = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    (rows, [n(&stats.blocks_skipped), n(&stats.blocks_read)])
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn fixture_content(flushed: bool) -> Vec<Row> {
    let part = if flushed { 0..20 } else { 20..30 };
    part.map(|i| {
        let meta = if i % 2 == 0 { vec![("trace_id".to_string(), format!("t{i}"))] } else { vec![] };
        (T0 + i * 1_000_000, format!("level=info msg=\"format one\" n={i} ünïcode"), meta)
    })
    .collect()
}

/// Writes the fixture (run once by the release that introduced format 1:
/// `cargo test -p store --test format -- --ignored write_fixture`).
#[test]
#[ignore]
fn write_fixture() {
    let dir = Path::new(FIXTURE);
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let s = open(dir);
    let push = |rows: Vec<Row>| {
        let entries = rows.into_iter().map(|(ts, line, metadata)| Entry::with_metadata(ts, line, metadata)).collect();
        s.push("fake", vec![PushStream { labels: Labels::from_pairs([("app", "fixture")]).unwrap(), entries }])
            .unwrap();
    };
    push(fixture_content(true));
    s.flush().unwrap();
    push(fixture_content(false));
    drop(s);
    let _ = std::fs::remove_file(dir.join("LOCK"));
}

#[test]
fn a_format_1_directory_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(Path::new(FIXTURE), tmp.path());
    let s = open(tmp.path());
    let mut want = fixture_content(true);
    want.extend(fixture_content(false));
    assert_eq!(lines(&s, "fixture"), want, "segment and WAL of format 1");
    // Its lines are days old: the cold tier rewrites the format-1 segment (its level unknown)
    // and the WAL's flush once, at the cold level, and every line reads the same after.
    s.flush().unwrap();
    assert!(s.segment_levels().contains(&None), "{:?}", s.segment_levels());
    assert!(s.compact().unwrap().inputs >= 1);
    assert!(s.segment_levels().iter().all(|l| *l == Some(19)), "{:?}", s.segment_levels());
    assert_eq!(lines(&s, "fixture"), want, "after the cold rewrite");
    assert_eq!(s.compact().unwrap().inputs, 0, "rewritten once");
}

#[test]
fn a_newer_directory_is_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(Path::new(FIXTURE), tmp.path());
    std::fs::write(tmp.path().join("FORMAT"), "bitacora data format 7\n").unwrap();
    let before: Vec<_> = walk(tmp.path());
    let limits = Limits::default();
    let err = match Store::open(tmp.path(), StoreConfig::default(), limits, &mut Registry::default()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a newer data directory was opened"),
    };
    assert!(err.contains("written by a newer bitacora (data format 7"), "{err}");
    assert_eq!(walk(tmp.path()), before, "nothing changed");
    // A newer segment inside an older directory: refused, never skipped as damaged.
    std::fs::write(tmp.path().join("FORMAT"), "bitacora data format 6\n").unwrap();
    let seg = walk(tmp.path()).into_iter().find(|(p, _)| p.ends_with(".seg")).unwrap().0;
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n - 1] = b'7';
    std::fs::write(&seg, &bytes).unwrap();
    let err = match Store::open(tmp.path(), StoreConfig::default(), Limits::default(), &mut Registry::default()) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a newer segment was skipped"),
    };
    assert!(err.contains("newer than this bitacora reads"), "{err}");
}

fn walk(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else if e.file_name() != "LOCK" {
            // (LOCK, the empty file the refusing process locked, is not data.)
            out.push((e.path().display().to_string(), e.metadata().unwrap().len()));
        }
    }
    out.sort();
    out
}

#[test]
fn a_snapshot_holds_what_was_acknowledged_before_it() {
    let tmp = tempfile::tempdir().unwrap();
    let s = Arc::new(open(tmp.path()));
    let labels = Labels::from_pairs([("app", "snap")]).unwrap();
    let now = store::now_ns();
    let push = |from: i64, to: i64| {
        let entries = (from..to).map(|i| Entry::new(now - 1_000_000_000 + i, format!("line {i}"))).collect();
        s.push("fake", vec![PushStream { labels: labels.clone(), entries }]).unwrap();
    };
    push(0, 100);
    s.flush().unwrap();
    push(100, 150); // only in the WAL
    // Pushes keep coming from another thread while the snapshot is taken.
    let writer = {
        let s = s.clone();
        let labels = labels.clone();
        std::thread::spawn(move || {
            for k in 0..200i64 {
                let e = vec![Entry::new(now + k, format!("during {k}"))];
                s.push("fake", vec![PushStream { labels: labels.clone(), entries: e }]).unwrap();
            }
        })
    };
    let before = lines(&s, "snap").len();
    let dir = s.snapshot("before-upgrade").unwrap();
    let after = lines(&s, "snap").len();
    writer.join().unwrap();
    assert_eq!(dir, tmp.path().join("snapshots/before-upgrade"));
    assert!(s.snapshot("before-upgrade").is_err(), "names are unique");
    assert!(s.snapshot("../escape").is_err());
    let snap = open(&dir);
    let got = lines(&snap, "snap");
    assert!(got.len() >= before && got.len() <= after, "{} not within [{before}, {after}]", got.len());
    // Exactly a prefix of what the live store holds: everything up to the snapshot, in order.
    let live = lines(&s, "snap");
    assert_eq!(&live[..150], &got[..150]);
    let during: Vec<_> = got.iter().filter(|l| l.1.starts_with("during")).map(|l| l.0).collect();
    assert!(during.windows(2).all(|w| w[1] == w[0] + 1), "acknowledged in order, none skipped");
}

const FIXTURE_5: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/format-5");

/// Format 5's fixture: 3000 access-log lines with random 16-hex-digit request ids, flushed into
/// small blocks with gram filters of 4-byte windows (compaction off, so the flush builds them).
fn fixture_5_content() -> Vec<Row> {
    let mut x = 11u64;
    (0..3000)
        .map(|i| {
            let id: String = (0..16)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    char::from(b"0123456789abcdef"[(x >> 60) as usize])
                })
                .collect();
            (T0 + i * 1_000_000, format!("GET /api/orders status=200 request_id={id}"), vec![])
        })
        .collect()
}

fn fixture_5_config() -> StoreConfig {
    StoreConfig {
        block_bytes: 4096,
        compaction_interval: model::duration::PromDuration(std::time::Duration::ZERO),
        ..StoreConfig::default()
    }
}

/// Writes format 5's fixture (run once by the last release that wrote format 5:
/// `cargo test -p store --test format -- --ignored write_fixture_5`).
#[test]
#[ignore]
fn write_fixture_5() {
    let dir = Path::new(FIXTURE_5);
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let s = Store::open(dir, fixture_5_config(), Limits::default(), &mut Registry::default()).unwrap();
    let entries = fixture_5_content().into_iter().map(|(ts, line, _)| Entry::new(ts, line)).collect();
    s.push("fake", vec![PushStream { labels: Labels::from_pairs([("app", "fixture5")]).unwrap(), entries }]).unwrap();
    s.flush().unwrap();
    drop(s);
    let _ = std::fs::remove_file(dir.join("LOCK"));
}

/// Format 5's gram filters hold 4-byte windows only: a needle of hex digits is looked up in them
/// as such (read as this release's filters, most blocks holding it would be skipped), and once
/// the cold tier rewrites the segment in this release's format, every answer is the same and
/// blocks without the needle are still skipped.
#[test]
fn a_format_5_directory_is_read_with_its_filters_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(Path::new(FIXTURE_5), tmp.path());
    let config = StoreConfig { block_bytes: 4096, cold_block_bytes: 4096, ..StoreConfig::default() };
    let s = Store::open(tmp.path(), config, Limits::default(), &mut Registry::default()).unwrap();
    // Written with level discovery on: each line's metadata says `detected_level=unknown`.
    let unknown = vec![("detected_level".to_string(), "unknown".to_string())];
    let want: Vec<Row> = fixture_5_content().into_iter().map(|(ts, l, _)| (ts, l, unknown.clone())).collect();
    assert!(lines(&s, "fixture5") == want, "the fixture's lines");
    // The first 6 digits of every 50th id, and the middle 8 of every 77th.
    let id = |l: &str| l.rsplit('=').next().unwrap().to_string();
    let needles: Vec<String> = (want.iter().step_by(50).map(|r| id(&r.1)[..6].to_string()))
        .chain(want.iter().step_by(77).map(|r| id(&r.1)[4..12].to_string()))
        .collect();
    // Blocks skipped and read over every needle.
    let check = |s: &Store, when: &str| {
        let mut blocks = [0, 0];
        for n in &needles {
            let (got, [skipped, read]) = search(s, "fixture5", n);
            let expected: Vec<Row> = want.iter().filter(|r| r.1.contains(n.as_str())).cloned().collect();
            assert!(!expected.is_empty());
            assert!(got == expected, "{n} {when}: {} lines, {} expected", got.len(), expected.len());
            blocks = [blocks[0] + skipped, blocks[1] + read];
        }
        blocks
    };
    let [skipped, read] = check(&s, "in format 5");
    assert!(skipped > 9 * read && read >= needles.len() as u64, "{skipped} skipped, {read} read");
    assert!(s.compact().unwrap().inputs >= 1, "the cold tier rewrites it");
    assert_eq!(s.segment_levels(), vec![Some(19)]);
    let [skipped, read] = check(&s, "rewritten");
    assert!(skipped > 9 * read && read >= needles.len() as u64, "{skipped} skipped, {read} read");
}
