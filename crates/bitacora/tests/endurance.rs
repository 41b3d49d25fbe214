//! A month on a real host, compressed: a full disk, thousands of segments under a low open-file
//! limit, `kill -9` during compaction, a deleted LOCK file, thousands of past streams. Real
//! `bitacora` processes; the full disk is a real (small) tmpfs, so these need root.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Http, Server, free_port, now_ns};
use serde_json::json;

fn is_root() -> bool {
    // SAFETY: getuid has no preconditions.
    let root = unsafe { libc::getuid() } == 0;
    if !root {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI runs as root: these tests mount a tmpfs");
        eprintln!("SKIPPED: needs root to mount a small tmpfs");
    }
    root
}

/// A tmpfs of `mib` MiB, unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(mib: u64) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).unwrap();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(&path)
            .status()
            .unwrap();
        assert!(st.success(), "mount tmpfs");
        Tmpfs { path, _dir: dir }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Fills the file system of `path` with `ballast` until the disk is full, leaving `leave` bytes.
fn fill(ballast: &Path, leave: u64) {
    let free = free_bytes(ballast.parent().unwrap());
    let want = free.saturating_sub(leave);
    let mut f = std::fs::File::create(ballast).unwrap();
    let chunk = vec![0x5au8; 64 << 10];
    let mut written = 0u64;
    use std::io::Write;
    while written < want {
        let n = chunk.len().min((want - written) as usize);
        if f.write_all(&chunk[..n]).is_err() {
            break;
        }
        written += n as u64;
    }
    let _ = f.sync_all();
}

fn free_bytes(p: &Path) -> u64 {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C string and a struct we own.
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
    st.f_bavail as u64 * st.f_frsize as u64
}

fn batch(app: &str, base: i64, from: usize, n: usize) -> (serde_json::Value, Vec<String>) {
    let lines: Vec<String> = (from..from + n).map(|i| format!("{app} line {i} {}", "p".repeat(900))).collect();
    let values: Vec<_> =
        lines.iter().enumerate().map(|(k, l)| json!([(base + (from + k) as i64 * 1000).to_string(), l])).collect();
    (json!({"streams": [{"stream": {"app": app}, "values": values}]}), lines)
}

fn assert_exactly(got: &[(i64, String)], acked: &[String]) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (_, l) in got {
        *count.entry(l.as_str()).or_default() += 1;
    }
    let dups: Vec<_> = count.iter().filter(|(_, n)| **n > 1).map(|(l, _)| &l[..l.len().min(40)]).take(3).collect();
    assert!(dups.is_empty(), "lines stored twice: {dups:?}");
    let missing: Vec<_> =
        acked.iter().filter(|l| !count.contains_key(l.as_str())).map(|l| &l[..l.len().min(40)]).take(3).collect();
    assert!(missing.is_empty(), "acknowledged lines lost: {missing:?} (of {})", acked.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_no_acknowledged_line() {
    if !is_root() {
        return;
    }
    let fs = Tmpfs::mount(24);
    let dir = fs.path.join("data");
    let ballast = fs.path.join("ballast");
    let port = free_port();
    let env = [("BITACORA_STORE__FLUSH_BYTES", "4000000")];
    let mut srv = Server::launch("server", &dir, port, &env);
    let h = Http::new(&srv.addr);
    let base = now_ns() - 600_000_000_000;
    let mut acked: Vec<String> = Vec::new();
    let mut next = 0usize;
    for _ in 0..5 {
        let (body, lines) = batch("disk", base, next, 200);
        assert_eq!(h.push_json(&body).await.0, 204);
        acked.extend(lines);
        next += 200;
    }
    // Leave about one and a half batches of room: the next pushes fill it, one fails half-way.
    fill(&ballast, 300_000);
    let mut refused = None;
    for _ in 0..20 {
        let (body, lines) = batch("disk", base, next, 200);
        let (status, text) = h.push_json(&body).await;
        next += 200;
        if status == 204 {
            acked.extend(lines);
        } else {
            assert_eq!(status, 507, "a full disk is 507 Insufficient Storage: {text}");
            assert!(text.contains("disk full"), "{text}");
            refused = Some((body, lines));
            break;
        }
    }
    let (refused_body, refused_lines) = refused.expect("the disk filled up");
    // Still full: refused again, reads keep working.
    assert_eq!(h.push_json(&refused_body).await.0, 507);
    let got = h.all_lines("{app=\"disk\"}", base - 1, now_ns()).await;
    assert_exactly(&got, &acked);
    assert_eq!(got.len(), acked.len(), "the refused push left nothing behind");
    let metrics = h.get("/metrics", &[]).await.1;
    assert!(metrics.contains("bitacora_disk_full 1"), "the gauge says so");

    // Space comes back: the client's retry is stored (not deduplicated against a ghost), and
    // later pushes land behind a clean WAL tail.
    std::fs::remove_file(&ballast).unwrap();
    assert_eq!(h.push_json(&refused_body).await.0, 204);
    acked.extend(refused_lines);
    for _ in 0..3 {
        let (body, lines) = batch("disk", base, next, 200);
        assert_eq!(h.push_json(&body).await.0, 204);
        acked.extend(lines);
        next += 200;
    }
    srv.kill9();
    let srv = Server::launch("server", &dir, port, &env);
    let h = Http::new(&srv.addr);
    let got = h.all_lines("{app=\"disk\"}", base - 1, now_ns()).await;
    assert_exactly(&got, &acked);
    assert_eq!(got.len(), acked.len());
    drop(srv);

    // A server that starts on a 100 % full disk serves reads and resumes writing by itself.
    fill(&ballast, 0);
    assert!(free_bytes(&fs.path) < 8192, "{} bytes left", free_bytes(&fs.path));
    let srv = Server::launch("server", &dir, port, &env);
    let h = Http::new(&srv.addr);
    let got = h.all_lines("{app=\"disk\"}", base - 1, now_ns()).await;
    assert_eq!(got.len(), acked.len(), "reads on a full disk");
    let (body, lines) = batch("disk", base, next, 50);
    let (status, text) = h.push_json(&body).await;
    assert_eq!(status, 507, "{text}");
    std::fs::remove_file(&ballast).unwrap();
    assert_eq!(h.push_json(&body).await.0, 204);
    acked.extend(lines);
    let got = h.all_lines("{app=\"disk\"}", base - 1, now_ns()).await;
    assert_exactly(&got, &acked);
}

/// `n` pushes of one line each, every one cut to its own segment by `POST /flush`.
async fn many_segments(h: &Http, app: &str, base: i64, n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for i in 0..n {
        let line = format!("{app} segment {i}");
        let body = json!({"streams": [{"stream": {"app": app, "shard": (i % 5).to_string()},
            "values": [[(base + i as i64 * 1_000_000).to_string(), line]]}]});
        assert_eq!(h.push_json(&body).await.0, 204);
        assert_eq!(h.post("/flush", &[], vec![]).await.0, 204);
        lines.push(line);
    }
    lines
}

async fn count(h: &Http, selector: &str, at: i64) -> u64 {
    let q = format!("sum(count_over_time({selector}[1d]))");
    let v = h.get_json("/loki/api/v1/query", &[("query", &q), ("time", &at.to_string())]).await;
    v["data"]["result"][0]["value"][1].as_str().map_or(0, |s| s.parse().unwrap())
}

async fn metric(h: &Http, name: &str) -> f64 {
    let text = h.get("/metrics", &[]).await.1;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("metric {name} missing"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_segments_under_a_low_open_file_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let port = free_port();
    let no_compaction = [("BITACORA_STORE__COMPACTION_INTERVAL", "0s")];
    let srv = Server::launch_limited("server", &dir, port, &no_compaction, Some(256));
    let h = Http::new(&srv.addr);
    let base = now_ns() - 3_600_000_000_000;
    let n = 1500;
    let lines = many_segments(&h, "seg", base, n).await;
    let fds = srv.open_fds();
    assert!(fds < 200, "{fds} files open with {n} segments");
    assert_eq!(metric(&h, "bitacora_segments").await, n as f64);
    assert_eq!(count(&h, "{app=\"seg\"}", now_ns()).await, n as u64);
    assert_exactly(&h.all_lines("{app=\"seg\"}", base - 1, now_ns()).await, &lines);
    assert!(srv.open_fds() < 200, "{} files open after reading every segment", srv.open_fds());
    drop(srv);

    // Restarted under the same limit: every segment is served, none called damaged.
    let srv = Server::launch_limited("server", &dir, port, &no_compaction, Some(256));
    let h = Http::new(&srv.addr);
    assert_eq!(metric(&h, "bitacora_corrupt_segments_total").await, 0.0);
    assert_eq!(count(&h, "{app=\"seg\"}", now_ns()).await, n as u64);
    drop(srv);

    // Compaction merges them in the background; every line stays, once.
    let srv = Server::launch_limited("server", &dir, port, &[("BITACORA_STORE__COMPACTION_INTERVAL", "1s")], Some(256));
    let h = Http::new(&srv.addr);
    let deadline = Instant::now() + Duration::from_secs(120);
    while metric(&h, "bitacora_segments").await >= 8.0 {
        assert!(Instant::now() < deadline, "compaction did not finish");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(count(&h, "{app=\"seg\"}", now_ns()).await, n as u64);
    assert_exactly(&h.all_lines("{app=\"seg\"}", base - 1, now_ns()).await, &lines);
    // What the files hold, by part: the raw bytes are exactly the lines', and the parts fit in
    // the files.
    let raw: usize = lines.iter().map(|l| l.len()).sum();
    assert_eq!(metric(&h, "bitacora_segment_raw_bytes").await, raw as f64);
    let part = |p: &'static str| {
        let h = &h;
        async move { metric(h, &format!("bitacora_segment_part_bytes{{part=\"{p}\"}}")).await }
    };
    let (blocks, tokens, grams) = (part("blocks").await, part("token_filters").await, part("gram_filters").await);
    assert!(blocks > 0.0 && grams > 0.0, "blocks {blocks}, grams {grams}");
    assert!(tokens <= 64.0 * metric(&h, "bitacora_segments").await, "no token filters written: {tokens} bytes");
    assert!(blocks + tokens + grams < metric(&h, "bitacora_segment_disk_bytes").await);
    // Inputs are deleted once the compaction that replaced them lets go of them.
    let served = metric(&h, "bitacora_segments").await as usize;
    let deadline = Instant::now() + Duration::from_secs(30);
    while walk(&dir.join("segments"), ".seg") != served {
        assert!(
            Instant::now() < deadline,
            "{} segment files on disk, {served} served",
            walk(&dir.join("segments"), ".seg")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn walk(dir: &Path, suffix: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|d| {
            if d.path().is_dir() {
                walk(&d.path(), suffix)
            } else {
                d.file_name().to_string_lossy().ends_with(suffix) as usize
            }
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_during_compaction_loses_and_duplicates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let port = free_port();
    let srv = Server::launch("server", &dir, port, &[("BITACORA_STORE__COMPACTION_INTERVAL", "0s")]);
    let h = Http::new(&srv.addr);
    let base = now_ns() - 3_600_000_000_000;
    let n = 600;
    let lines = many_segments(&h, "kill", base, n).await;
    drop(srv);
    // Compaction starts a second after each start; kill it at different moments of its work.
    let env = [("BITACORA_STORE__COMPACTION_INTERVAL", "1s")];
    let mut killed_mid_merge = 0;
    for round in 0..8u64 {
        let mut srv = Server::launch("server", &dir, port, &env);
        let h = Http::new(&srv.addr);
        let before = metric(&h, "bitacora_segments").await;
        tokio::time::sleep(Duration::from_millis(900 + (round * 137) % 400)).await;
        let tmp_files = walk(&dir.join("segments"), ".tmp");
        srv.kill9();
        killed_mid_merge += (tmp_files > 0) as usize;
        if before < 8.0 {
            break;
        }
    }
    eprintln!("{killed_mid_merge} kills caught a compaction writing its outputs");
    let srv = Server::launch("server", &dir, port, &env);
    let h = Http::new(&srv.addr);
    let deadline = Instant::now() + Duration::from_secs(120);
    while metric(&h, "bitacora_segments").await >= 8.0 {
        assert!(Instant::now() < deadline, "compaction did not finish");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Counting reads the blocks' columns without deduplication: a segment served twice shows.
    assert_eq!(count(&h, "{app=\"kill\"}", now_ns()).await, n as u64);
    assert_exactly(&h.all_lines("{app=\"kill\"}", base - 1, now_ns()).await, &lines);
    assert_eq!(walk(&dir.join("segments"), ".tmp"), 0);
}

#[tokio::test]
async fn a_deleted_lock_file_does_not_let_a_second_server_in() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let now = now_ns();
    let body = json!({"streams": [{"stream": {"app": "lock"}, "values": [[now.to_string(), "mine"]]}]});
    assert_eq!(h.push_json(&body).await.0, 204);
    std::fs::remove_file(srv.dir.join("LOCK")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bitacora"))
        .args(["server", "--listen", &format!("127.0.0.1:{}", free_port()), "--data-dir"])
        .arg(&srv.dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success(), "a second server must not open the directory");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another bitacora process"), "{err}");
    assert_eq!(h.all_lines("{app=\"lock\"}", now - 1, now + 1).await, vec![(now, "mine".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_streams_do_not_count_against_the_active_stream_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let port = free_port();
    let env = [("BITACORA_STORE__STREAM_IDLE_PERIOD", "3s")];
    let mut srv = Server::launch("server", &dir, port, &env);
    let h = Http::new(&srv.addr);
    let now = now_ns();
    // 5,000 one-off containers (Loki's default limit), 500 per push.
    for chunk in 0..10 {
        let streams: Vec<_> = (0..500)
            .map(|i| {
                let c = chunk * 500 + i;
                json!({"stream": {"app": "oneoff", "container_name": format!("app.run.{c}")},
                       "values": [[(now + c as i64).to_string(), format!("run {c}")]]})
            })
            .collect();
        let (status, text) = h.push_json(&json!({ "streams": streams })).await;
        assert_eq!(status, 204, "{text}");
    }
    let fresh = |n: u32| json!({"streams": [{"stream": {"app": "web", "n": n.to_string()}, "values": [[now_ns().to_string(), "up"]]}]});
    let (status, text) = h.push_json(&fresh(1)).await;
    assert_eq!(status, 429, "5,000 active streams: {text}");
    assert!(text.contains("maximum active stream limit exceeded"), "{text}");
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let (status, text) = h.push_json(&fresh(2)).await;
    assert_eq!(status, 204, "the one-offs went idle: {text}");
    // After a restart the streams on disk are not active either.
    srv.kill9();
    let srv = Server::launch("server", &dir, port, &[]);
    let h = Http::new(&srv.addr);
    let (status, text) = h.push_json(&fresh(3)).await;
    assert_eq!(status, 204, "{text}");
    assert_eq!(count(&h, "{app=\"oneoff\"}", now_ns()).await, 5000);
}
