//! The store on a real data directory: push, read back, flush, reopen, replay, retention.

use std::sync::Arc;

use model::{Direction, Entry, Labels, MatchOp, Matcher};
use prometheus_client::registry::Registry;
use store::{Limits, PushStatus, PushStream, ReadStats, Select, Store, StoreConfig, now_ns};

fn open(dir: &std::path::Path, cfg: StoreConfig) -> Store {
    let limits = Limits { discover_service_name: vec![], ingestion_rate_mb: 0.0, ..Default::default() };
    Store::open(dir, cfg, limits, &mut Registry::default()).unwrap()
}

fn labels(app: &str) -> Labels {
    Labels::from_pairs([("app", app), ("stream", "stdout")]).unwrap()
}

/// Everything of `app` in any time, holding `needles` and kept by `filter`.
fn query(app: &str, dir: Direction, needles: &[&str], filter: Option<model::LinePredicate>) -> Select {
    Select {
        tenant: "fake".into(),
        matchers: vec![Matcher::new("app", MatchOp::Eq, app).unwrap()],
        start: 0,
        end: i64::MAX,
        direction: dir,
        required_substrings: needles.iter().map(|s| s.to_string()).collect(),
        required_any_case: vec![],
        line_filter: filter,
        summaries: None,
        take: None,
    }
}

fn read_all(s: &Store, app: &str, dir: Direction, needle: &[&str]) -> Vec<(i64, String)> {
    let q = query(app, dir, needle, None);
    s.select(&q, Arc::new(ReadStats::default())).into_iter().flat_map(|(_, r)| r.map(|e| (e.ts, e.line))).collect()
}

#[test]
fn push_flush_reopen_replay() {
    let tmp = tempfile::tempdir().unwrap();
    let base = now_ns() - 1_000_000_000_000;
    {
        let s = open(tmp.path(), StoreConfig::default());
        let entries: Vec<Entry> =
            (0..1000).map(|i| Entry::new(base + i * 1000, format!("line {i} token{i}"))).collect();
        let out = s.push("fake", vec![PushStream { labels: labels("a"), entries }]).unwrap();
        assert_eq!(out.status, PushStatus::Ok, "{}", out.message);
        assert_eq!(out.accepted, 1000);
        s.flush().unwrap();
        // More after the flush: only in the WAL.
        let entries: Vec<Entry> =
            (1000..1500).map(|i| Entry::new(base + i * 1000, format!("line {i} token{i}"))).collect();
        s.push("fake", vec![PushStream { labels: labels("a"), entries }]).unwrap();
        // Out of order inside the window, and an exact duplicate.
        let out = s
            .push(
                "fake",
                vec![PushStream {
                    labels: labels("a"),
                    entries: vec![Entry::new(base + 500, "late"), Entry::new(base, "line 0 token0")],
                }],
            )
            .unwrap();
        assert_eq!(out.accepted, 2, "the duplicate of a flushed entry is only removed at read time");
        let fwd = read_all(&s, "a", Direction::Forward, &[]);
        assert_eq!(fwd.len(), 1501);
        assert_eq!(fwd[0], (base, "line 0 token0".into()));
        assert_eq!(fwd[1], (base + 500, "late".into()));
        // Dropped without flushing: the WAL has the rest.
    }
    let s = open(tmp.path(), StoreConfig::default());
    let fwd = read_all(&s, "a", Direction::Forward, &[]);
    assert_eq!(fwd.len(), 1501);
    assert!(fwd.windows(2).all(|w| w[0].0 <= w[1].0));
    let bwd = read_all(&s, "a", Direction::Backward, &[]);
    assert_eq!(bwd.first().unwrap().0, base + 1499 * 1000);
    assert_eq!(bwd.len(), 1501);
    // Needle search: only the matching line, and blocks pruned.
    let hits = read_all(&s, "a", Direction::Forward, &[" token777"]);
    assert_eq!(hits, vec![(base + 777_000, "line 777 token777".into())]);
    assert_eq!(s.label_values("fake", "app", &[], 0, i64::MAX), vec!["a".to_string()]);
    assert_eq!(s.label_names("fake", &[], 0, i64::MAX), vec!["app".to_string(), "stream".to_string()]);
    s.flush().unwrap();
    let st = s.stream_stats("fake", &[], 0, i64::MAX);
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].1.entries, 1502, "index stats count stored entries (the duplicate is in two segments)");
}

#[test]
fn validation_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path(), StoreConfig::default());
    let now = now_ns();
    let out = s
        .push(
            "fake",
            vec![PushStream {
                labels: labels("v"),
                entries: vec![
                    Entry::new(now, "ok"),
                    Entry::new(now - 8 * 86_400 * 1_000_000_000, "old"),
                    Entry::new(now + 3600 * 1_000_000_000, "future"),
                    Entry::new(now, "x".repeat(300_000)),
                ],
            }],
        )
        .unwrap();
    assert_eq!(out.status, PushStatus::BadRequest);
    assert_eq!(out.accepted, 1);
    assert!(out.message.contains("has timestamp too old"), "{}", out.message);
    assert!(out.message.contains("has timestamp too new"), "{}", out.message);
    assert!(
        out.message.contains("max entry size '262144' bytes exceeded for stream '{app=\"v\", stream=\"stdout\"}'"),
        "{}",
        out.message
    );
    let out = s
        .push(
            "fake",
            vec![PushStream {
                labels: labels("v"),
                entries: vec![Entry::new(now - 2 * 3600 * 1_000_000_000, "behind")],
            }],
        )
        .unwrap();
    assert!(out.message.contains("entry too far behind"), "{}", out.message);
    assert!(out.message.contains("total ignored: 1 out of 1"), "{}", out.message);
    assert_eq!(read_all(&s, "v", Direction::Forward, &[]).len(), 1);
}

#[test]
fn retention_by_age_and_size() {
    let tmp = tempfile::tempdir().unwrap();
    let day = 86_400_000_000_000i64;
    let now = now_ns();
    // Write six daily segments with a store that accepts old samples.
    let limits = Limits {
        reject_old_samples: false,
        discover_service_name: vec![],
        ingestion_rate_mb: 0.0,
        ..Default::default()
    };
    let cfg = StoreConfig {
        retention_period: "3d".parse().unwrap(),
        out_of_order_window: "30d".parse().unwrap(),
        ..Default::default()
    };
    let s = Store::open(tmp.path(), cfg.clone(), limits.clone(), &mut Registry::default()).unwrap();
    for d in (0..6).rev() {
        let ts = now - d * day - 1000;
        let entries: Vec<Entry> = (0..200).map(|i| Entry::new(ts + i, format!("day {d} line {i}"))).collect();
        let out = s.push("fake", vec![PushStream { labels: labels("r"), entries }]).unwrap();
        assert_eq!(out.status, PushStatus::Ok, "{}", out.message);
        s.flush().unwrap();
    }
    assert_eq!(read_all(&s, "r", Direction::Forward, &[]).len(), 1200);
    let removed = s.apply_retention(now);
    assert_eq!(removed, 3, "days 3, 4 and 5 are older than 3d");
    let left = read_all(&s, "r", Direction::Forward, &[]);
    assert_eq!(left.len(), 600);
    assert!(left.iter().all(|(ts, _)| *ts >= now - 3 * day));
    drop(s);
    // Size: keep at most about two segments' worth; the oldest go first.
    let one = std::fs::read_dir(tmp.path().join("segments"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .map(|f| f.metadata().unwrap().len())
        .max()
        .unwrap();
    // The limit also keeps room for the WAL to grow to twice flush_bytes before a cut.
    let cfg = StoreConfig { retention_max_bytes: one * 2 + one / 2 + 200, flush_bytes: 100, ..cfg };
    let s = Store::open(tmp.path(), cfg, limits, &mut Registry::default()).unwrap();
    assert_eq!(s.apply_retention(now), 1);
    let left = read_all(&s, "r", Direction::Forward, &[]);
    assert_eq!(left.len(), 400);
    assert!(left[0].1.starts_with("day 1 "), "the oldest day went first: {}", left[0].1);
}

#[test]
fn damaged_files_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let now = now_ns();
    {
        let s = open(tmp.path(), StoreConfig::default());
        for app in ["x", "y"] {
            s.push(
                "fake",
                vec![PushStream { labels: labels(app), entries: vec![Entry::new(now, format!("{app} line"))] }],
            )
            .unwrap();
            s.flush().unwrap();
        }
        s.push("fake", vec![PushStream { labels: labels("z"), entries: vec![Entry::new(now, "z line")] }]).unwrap();
    }
    // Damage the first segment's footer and tear the WAL's last record.
    let mut segs: Vec<_> = std::fs::read_dir(tmp.path().join("segments"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .map(|f| f.path())
        .collect();
    segs.sort();
    let mut bytes = std::fs::read(&segs[0]).unwrap();
    let n = bytes.len();
    bytes[n - 20] ^= 0xff;
    std::fs::write(&segs[0], bytes).unwrap();
    let wal = std::fs::read_dir(tmp.path().join("wal")).unwrap().flatten().map(|f| f.path()).max().unwrap();
    let mut w = std::fs::read(&wal).unwrap();
    w.extend_from_slice(&[42, 0, 0, 0, 1, 2]);
    std::fs::write(&wal, w).unwrap();
    let s = open(tmp.path(), StoreConfig::default());
    assert!(read_all(&s, "x", Direction::Forward, &[]).is_empty());
    assert_eq!(read_all(&s, "y", Direction::Forward, &[]).len(), 1);
    assert_eq!(read_all(&s, "z", Direction::Forward, &[]).len(), 1);
}

/// A literal that is only part of a word (the middle of a trace id, the prefix of a UUID) skips
/// the blocks that cannot hold it, as whole words do, and finds exactly what a full scan finds.
/// A flush leaves the gram filters to compaction (which rewrites its blocks anyway): until
/// then its blocks are read whole, with the same answers; a store that never compacts has its
/// flushes build them.
#[test]
fn parts_of_words_prune_blocks_and_answer_exactly() {
    // Three days ago: the day folder is closed, so compaction rewrites its one segment alone.
    let base = now_ns() - 3 * 86_400_000_000_000;
    let entries: Vec<Entry> = (0..20_000)
        .map(|i| {
            let line = match i {
                4321 => "GET /cart trace_id=4bf92f3577b34da6a3ce929d0e0e4736 session=e8a1f0c4-d2b9".to_string(),
                _ => {
                    format!("GET /cart trace_id={:032x} status=200 n={i}", (i as u128).wrapping_mul(0x9E3779B97F4A7C15))
                }
            };
            Entry::new(base + i * 1000, line)
        })
        .collect();
    let count = |s: &Store, needle: &str| {
        let q = query("a", Direction::Forward, &[needle], None);
        let stats = Arc::new(ReadStats::default());
        let hits: Vec<i64> = s.select(&q, stats.clone()).into_iter().flat_map(|(_, r)| r.map(|e| e.ts)).collect();
        (
            hits,
            stats.blocks_read.load(std::sync::atomic::Ordering::Relaxed),
            stats.blocks_skipped.load(std::sync::atomic::Ordering::Relaxed),
        )
    };
    let want = vec![base + 4321 * 1000];
    let needles = ["b34da6a3ce92", "e8a1f0", "77b34da6a3ce929d0e0e4736 session"];
    let pruned = |s: &Store| {
        for needle in needles {
            let (hits, read, skipped) = count(s, needle);
            assert_eq!(hits, want, "{needle}");
            // The block holding it, and a few others: a 6-digit hex prefix has two grams, each
            // reported present in about 8 % of the blocks that lack it.
            assert!(read <= 4 && skipped > 100, "{needle}: {read} blocks read, {skipped} skipped");
        }
    };

    let tmp = tempfile::tempdir().unwrap();
    // No cold tier: its larger blocks would hold everything in two.
    let cfg = StoreConfig { block_bytes: 4096, cold_after: "0s".parse().unwrap(), ..Default::default() };
    let s = open(tmp.path(), cfg.clone());
    s.push("fake", vec![PushStream { labels: labels("a"), entries: entries.clone() }]).unwrap();
    s.flush().unwrap();
    for needle in needles {
        let (hits, read, skipped) = count(&s, needle);
        assert_eq!((&hits, skipped), (&want, 0), "{needle}: a flush's blocks have no gram filter");
        assert!(read > 100, "{needle}: {read} blocks read");
    }
    let c = s.compact().unwrap();
    assert_eq!((c.inputs, c.outputs), (1, 1), "the lone segment is rewritten with its filters");
    pruned(&s);
    assert_eq!(s.compact().unwrap().inputs, 0, "and only once");
    // Without pruning: the same answers from every block.
    s.reconfigure(
        StoreConfig { search_pruning: false, ..cfg.clone() },
        store::TenantLimits::uniform(Limits::default()),
    );
    let (hits, _, skipped) = count(&s, "b34da6a3ce92");
    assert_eq!((hits, skipped), (want.clone(), 0));

    // Never compacted: the flush builds the filters.
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path(), StoreConfig { compaction_interval: "0s".parse().unwrap(), ..cfg });
    s.push("fake", vec![PushStream { labels: labels("a"), entries }]).unwrap();
    s.flush().unwrap();
    pruned(&s);
}

/// Gram filters fold case: a count of lines holding a word in any case skips the blocks that
/// hold it in none, and counts exactly what reading every block counts.
#[test]
fn words_in_any_case_prune_blocks() {
    let base = now_ns() - 3 * 86_400_000_000_000;
    let hits = [777, 9000, 15_000];
    let entries: Vec<Entry> = (0..20_000)
        .map(|i| {
            let line = match i {
                777 => "java.lang.IllegalStateException: boom".to_string(),
                9000 => "WARN EXCEPTION CAUGHT in handler".to_string(),
                15_000 => "retrying after exception=timeout".to_string(),
                _ => format!("worker done job={i} status=ok took={}ms", i % 97),
            };
            Entry::new(base + i * 1000, line)
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = StoreConfig { block_bytes: 4096, cold_after: "0s".parse().unwrap(), ..Default::default() };
    let s = open(tmp.path(), cfg.clone());
    s.push("fake", vec![PushStream { labels: labels("a"), entries }]).unwrap();
    s.flush().unwrap();
    s.compact().unwrap();
    let count = |s: &Store| {
        // As LogQL asks for `|~ "(?i)exception"`.
        let filter = model::LinePredicate::new(|l: &str| l.to_ascii_lowercase().contains("exception"));
        let q =
            Select { required_any_case: vec!["exception".into()], ..query("a", Direction::Forward, &[], Some(filter)) };
        let stats = Arc::new(ReadStats::default());
        let parts = s.select_stats(&q, stats.clone());
        let counted: u64 = parts.into_iter().flat_map(|(_, r)| r.map(|st| st.lines as u64)).sum();
        (
            counted,
            stats.blocks_read.load(std::sync::atomic::Ordering::Relaxed),
            stats.blocks_skipped.load(std::sync::atomic::Ordering::Relaxed),
        )
    };
    let (counted, read, skipped) = count(&s);
    assert_eq!(counted, hits.len() as u64);
    assert!(read <= hits.len() as u64 + 1 && skipped > 100, "{read} blocks read, {skipped} skipped");
    s.reconfigure(StoreConfig { search_pruning: false, ..cfg }, store::TenantLimits::uniform(Limits::default()));
    let (counted, read, skipped) = count(&s);
    assert_eq!((counted, skipped), (hits.len() as u64, 0));
    assert!(read > 100);
}

/// A count that searches many blocks of one stream reads them as several parts (one per core's
/// share), which add up to exactly what reading the stream's lines finds, with a needle and
/// with a line filter alike; a count that searches nothing is one reader per stream.
#[test]
fn a_searched_stream_is_counted_in_parts_that_add_up() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path(), StoreConfig { block_bytes: 2048, ..Default::default() });
    let base = now_ns() - 1_000_000_000_000;
    let entries: Vec<Entry> =
        (0..5000).map(|i| Entry::new(base + i * 1000, format!("line {i} k{} status={}", i % 7, 200 + i % 3))).collect();
    s.push("fake", vec![PushStream { labels: labels("a"), entries }]).unwrap();
    s.flush().unwrap();
    let select = |needles: &[&str], filter| query("a", Direction::Forward, needles, filter);
    let stats = Arc::new(ReadStats::default());
    let parts = s.select_stats(&select(&["k3"], None), stats.clone());
    assert!(parts.len() > 4, "{} parts", parts.len());
    assert!(parts.iter().all(|(l, _)| *l == labels("a")));
    let counted: u64 = parts.into_iter().flat_map(|(_, r)| r.map(|st| st.lines as u64)).sum();
    let read = read_all(&s, "a", Direction::Forward, &["k3"]).len() as u64;
    assert_eq!((counted, read), (714, 714));

    let filter = model::LinePredicate::new(|l: &str| l.ends_with("status=201"));
    let parts = s.select_stats(&select(&[], Some(filter)), stats.clone());
    assert!(parts.len() > 4);
    let counted: u64 = parts.into_iter().flat_map(|(_, r)| r.map(|st| st.lines as u64)).sum();
    assert_eq!(counted, 5000 / 3 + 1);

    let whole = s.select_stats(&select(&[], None), stats);
    assert_eq!(whole.len(), 1, "nothing searched: the stream is one reader");
    assert_eq!(whole.into_iter().flat_map(|(_, r)| r.map(|st| st.lines as u64)).sum::<u64>(), 5000);
}

/// A line filter that says what its kept lines hold is tested only on the lines that text
/// occurs in, found over the block's whole text: the count equals testing every line, with
/// occurrences that run across two lines' boundary belonging to neither.
#[test]
fn a_filter_searched_over_whole_blocks_counts_as_testing_every_line() {
    let tmp = tempfile::tempdir().unwrap();
    let s = open(tmp.path(), StoreConfig { block_bytes: 4096, ..Default::default() });
    let base = now_ns() - 1_000_000_000_000;
    // "ab" at line ends and starts (across boundaries), inside, twice, and not at all.
    let shapes = ["xa", "bx", "ab", "zzab", "abab", "b", "a", "qq", "xaab", "bbba"];
    let entries: Vec<Entry> =
        (0..3000).map(|i| Entry::new(base + i * 1000, format!("{i} {}", shapes[(i * 7 % 10) as usize]))).collect();
    let want = entries.iter().filter(|e| e.line.contains("ab")).count() as u64;
    s.push("fake", vec![PushStream { labels: labels("a"), entries }]).unwrap();
    s.flush().unwrap();
    let count = |filter: model::LinePredicate| -> u64 {
        let q = query("a", Direction::Forward, &[], Some(filter));
        s.select_stats(&q, Arc::new(ReadStats::default()))
            .into_iter()
            .flat_map(|(_, r)| r.map(|st| st.lines as u64))
            .sum()
    };
    let plain = model::LinePredicate::new(|l: &str| l.contains("ab"));
    let searched = plain.clone().with_search(Arc::new(memchr::memmem::Finder::new("ab").into_owned()));
    assert_eq!(count(plain), want);
    assert_eq!(count(searched), want);
    // A search that finds nothing the predicate wants: no line is tested, none counted.
    let nothing = model::LinePredicate::new(|l: &str| l.contains("ab"))
        .with_search(Arc::new(memchr::memmem::Finder::new("zzz").into_owned()));
    assert_eq!(count(nothing), 0);
}
