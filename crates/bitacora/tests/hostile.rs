//! A tester as an attacker ("Endurance"): every request is bounded, every answer is complete or
//! an error. Nested queries, decompression bombs, slowloris connections, corrupt blocks,
//! out-of-range parameters and `/config` secrets, each against a real server.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{Http, Server, now_ns};
use serde_json::json;

/// The server's peak resident set (VmHWM) in MiB.
fn peak_rss_mib(srv: &Server) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{}/status", srv.child.id())).unwrap();
    let kb: u64 = s
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().trim_end_matches("kB").trim().parse().unwrap())
        .unwrap();
    kb / 1024
}

async fn alive(h: &Http) {
    // A fresh client: a pooled keep-alive connection may be the one the server's idle timeout is
    // closing at that moment (the client would see an incomplete message, not the server's fault).
    let (s, b) = Http::new(&h.base).get("/ready", &[]).await;
    assert_eq!((s, b.as_str()), (200, "ready\n"), "the server must keep answering");
}

// ------------------------------------------------------------------------------------ nesting

#[tokio::test]
async fn nested_queries_are_refused_and_the_deepest_allowed_answers() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t0 = now_ns() - 60_000_000_000;
    let (s, b) =
        h.push_json(&json!({"streams": [{"stream": {"app": "n"}, "values": [[t0.to_string(), "n=1 hello"]]}]})).await;
    assert_eq!(s, 204, "{b}");
    let (start, end) = ((t0 - 1_000_000_000).to_string(), (t0 + 1_000_000_000).to_string());

    // 1,500 nested parentheses (3 KB) used to overflow the stack and abort the process.
    let bomb = format!("{}count_over_time({{app=\"n\"}}[1m]){}", "(".repeat(1500), ")".repeat(1500));
    let deep_sum = format!(
        "{}count_over_time({{app=\"n\"}}[1m]){}",
        "sum(".repeat(logql::MAX_DEPTH - 1),
        ")".repeat(logql::MAX_DEPTH - 1)
    );
    let deep_filter = format!("{{app=\"n\"}} | logfmt | n=\"1\"{}", " or n=\"1\"".repeat(logql::MAX_DEPTH - 1));
    for q in [&bomb, &deep_sum, &deep_filter] {
        let endpoints: [(&str, Vec<(&str, &str)>); 6] = [
            ("/loki/api/v1/format_query", vec![("query", q)]),
            ("/loki/api/v1/query", vec![("query", q), ("time", &end)]),
            ("/loki/api/v1/query_range", vec![("query", q), ("start", &start), ("end", &end)]),
            ("/loki/api/v1/series", vec![("match[]", q)]),
            ("/loki/api/v1/index/stats", vec![("query", q)]),
            ("/loki/api/v1/index/volume", vec![("query", q)]),
        ];
        for (path, params) in endpoints {
            let (s, b) = h.get(path, &params).await;
            assert_eq!(s, 400, "{path}: {b}");
            assert!(b.contains("parse error at line 1, col "), "{path}: {b}");
            assert!(b.contains(&format!("query nesting too deep (max {})", logql::MAX_DEPTH)), "{path}: {b}");
        }
        alive(&h).await;
    }
    // The deepest allowed queries answer, on the server's threads, in this debug build.
    let ok_sum = format!(
        "{}count_over_time({{app=\"n\"}}[1m]){}",
        "sum(".repeat(logql::MAX_DEPTH - 2),
        ")".repeat(logql::MAX_DEPTH - 2)
    );
    let ok_chain = format!("vector(1){}", " * vector(1)".repeat(logql::MAX_DEPTH - 1));
    let ok_filter = format!("{{app=\"n\"}} | logfmt | n=\"1\"{}", " or n=\"1\"".repeat(logql::MAX_DEPTH - 2));
    for q in [&ok_sum, &ok_chain] {
        let v = h.get_json("/loki/api/v1/query", &[("query", q), ("time", &end)]).await;
        assert_eq!(v["data"]["result"][0]["value"][1], "1", "{v}");
        let v = h.get_json("/loki/api/v1/format_query", &[("query", q)]).await;
        assert_eq!(v["status"], "success");
        // The canonical form of an accepted query is accepted too.
        let printed = v["data"].as_str().unwrap().to_string();
        let v = h.get_json("/loki/api/v1/query", &[("query", &printed), ("time", &end)]).await;
        assert_eq!(v["data"]["result"][0]["value"][1], "1", "{v}");
    }
    let v = h.get_json("/loki/api/v1/query_range", &[("query", &ok_filter), ("start", &start), ("end", &end)]).await;
    assert_eq!(v["data"]["result"][0]["values"][0][1], "n=1 hello", "{v}");
    alive(&h).await;
}

// ------------------------------------------------------------------------ decompression bombs

const MIB: usize = 1 << 20;

/// A request: path or name, query parameters or headers, and what the answer must contain.
type Case<'a, T> = (&'a str, Vec<(&'a str, &'a str)>, T);

/// A raw deflate stream of `mib` MiB of zeros, about 1 KB per MiB: one MiB compressed with a
/// full flush (byte-aligned, no reference back) repeated, then a final empty block.
fn deflate_zeros(mib: usize) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let mut piece = Vec::with_capacity(MIB);
    c.compress_vec(&vec![0u8; MIB], &mut piece, flate2::FlushCompress::Full).unwrap();
    assert_eq!(c.total_in() as usize, MIB);
    let mut out = Vec::with_capacity(piece.len() * mib + 16);
    for _ in 0..mib {
        out.extend_from_slice(&piece);
    }
    let mut end = Vec::with_capacity(64);
    flate2::Compress::new(flate2::Compression::best(), false)
        .compress_vec(&[], &mut end, flate2::FlushCompress::Finish)
        .unwrap();
    out.extend_from_slice(&end);
    out
}

/// The same as a gzip member (its trailer's CRC is not of the data: a decoder that inflates
/// everything reads gigabytes before it could notice).
fn gzip_zeros(mib: usize) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(deflate_zeros(mib));
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&((mib * MIB) as u32).to_le_bytes());
    out
}

/// Raw snappy of `n` zero bytes: one literal then 64-byte copies (3 bytes each, ~21x).
fn snappy_zeros(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n / 21 + 16);
    let mut len = n as u64;
    while len >= 0x80 {
        out.push((len as u8) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(&[0, 0]); // literal of length 1: a zero byte
    let mut left = n - 1;
    while left >= 64 {
        out.extend_from_slice(&[(63 << 2) | 2, 1, 0]); // copy 64 bytes from offset 1
        left -= 64;
    }
    while left > 0 {
        let l = left.min(64);
        out.extend_from_slice(&[(((l - 1) as u8) << 2) | 2, 1, 0]);
        left -= l;
    }
    out
}

#[test]
fn bomb_builders_are_what_they_claim() {
    use std::io::Read;
    let mut n = 0u64;
    let bomb = gzip_zeros(3);
    let mut d = flate2::read::GzDecoder::new(&bomb[..]);
    let mut buf = vec![0u8; 65536];
    loop {
        let k = d.read(&mut buf).unwrap_or(0);
        if k == 0 {
            break;
        }
        assert!(buf[..k].iter().all(|b| *b == 0));
        n += k as u64;
    }
    assert_eq!(n, 3 * MIB as u64);
    let raw = snap::raw::Decoder::new().decompress_vec(&snappy_zeros(1000)).unwrap();
    assert_eq!(raw, vec![0u8; 1000]);
}

#[tokio::test]
async fn decompression_bombs_are_413_and_memory_stays_bounded() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let before = peak_rss_mib(&srv);
    let gzip = gzip_zeros(4096); // 4 MB on the wire, 4 GiB inflated
    let deflate = deflate_zeros(4096);
    let snappy = snappy_zeros(2 << 30); // 100 MB on the wire, declares 2 GiB
    let mut lying = Vec::new(); // declares 4 GiB - 1 in 5 bytes
    lying.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0]);
    let cases: [Case<&Vec<u8>>; 5] = [
        ("gzip json", vec![("Content-Type", "application/json"), ("Content-Encoding", "gzip")], &gzip),
        ("deflate json", vec![("Content-Type", "application/json"), ("Content-Encoding", "deflate")], &deflate),
        ("gzip protobuf", vec![("Content-Type", "application/x-protobuf"), ("Content-Encoding", "gzip")], &gzip),
        ("snappy protobuf", vec![("Content-Type", "application/x-protobuf")], &snappy),
        ("lying snappy length", vec![("Content-Type", "application/x-protobuf")], &lying),
    ];
    for (name, headers, body) in cases {
        let t = Instant::now();
        let (s, b) = h.post("/loki/api/v1/push", &headers, body.to_vec()).await;
        assert_eq!(s, 413, "{name}: {b}");
        assert!(b.contains("104857600"), "{name}: the message names the limit: {b}");
        assert!(b.contains("too large"), "{name}: {b}");
        assert!(t.elapsed() < Duration::from_secs(20), "{name}: {:?}", t.elapsed());
        let rss = peak_rss_mib(&srv);
        assert!(rss < 300, "{name}: peak RSS {rss} MiB (before the bombs: {before} MiB)");
        alive(&h).await;
    }
    eprintln!("peak RSS: {before} MiB before the bombs, {} MiB after", peak_rss_mib(&srv));
    // An honest compressed push still works.
    let body =
        serde_json::to_vec(&json!({"streams": [{"stream": {"app": "z"}, "values": [[now_ns().to_string(), "ok"]]}]}))
            .unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&body).unwrap();
    let (s, b) = h
        .post(
            "/loki/api/v1/push",
            &[("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
            e.finish().unwrap(),
        )
        .await;
    assert_eq!(s, 204, "{b}");
}

// ------------------------------------------------------------------------------ entry floods

type Headers<'a> = Vec<(&'a str, &'a str)>;

/// A protobuf length prefix.
fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A `PushRequest` of the given streams (each its labels and its entries' encoded bytes), in
/// snappy's block format.
fn protobuf_push(streams: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (labels, entries) in streams {
        let mut s = vec![0x0a];
        varint(&mut s, labels.len() as u64);
        s.extend_from_slice(labels.as_bytes());
        s.extend_from_slice(entries);
        body.push(0x0a);
        varint(&mut body, s.len() as u64);
        body.extend(s);
    }
    snap::raw::Encoder::new().compress_vec(&body).unwrap()
}

/// Bodies under the size limit that hold millions of empty entries, streams or OTLP log
/// records (2 and 11 bytes each in protobuf, 9 and 22 in Loki's two JSON shapes): laid out,
/// they took 7 to 70 times their size in memory (the server's peak passed 1.4 GiB) and
/// minutes. They are refused before they are laid out, naming the problem, memory stays
/// bounded, and pushes of small honest entries are taken.
#[tokio::test]
async fn entry_floods_are_refused_before_they_are_laid_out() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let empty_entries = [0x12u8, 0x00].repeat(40_000_000); // 80 MB
    let entries = protobuf_push(&[(r#"{app="flood"}"#, &empty_entries)]);
    drop(empty_entries);
    let streams = {
        let one: &[(&str, &[u8])] = &[(r#"{a="b"}"#, b"")];
        let mut raw = Vec::new();
        let s = snap::raw::Decoder::new().decompress_vec(&protobuf_push(one)).unwrap();
        for _ in 0..8_000_000 {
            raw.extend_from_slice(&s); // 88 MB
        }
        snap::raw::Encoder::new().compress_vec(&raw).unwrap()
    };
    let mut json = br#"{"streams":[{"stream":{"app":"flood"},"values":["#.to_vec();
    for i in 0..9_000_000 {
        json.extend_from_slice(if i == 0 { br#"["1",""]"# } else { br#",["1",""]"# }); // 81 MB
    }
    json.extend_from_slice(b"]}]}");
    // Loki's legacy JSON shape, on its legacy path: 4 million entries of 22 bytes (88 MB).
    let mut legacy = br#"{"streams":[{"labels":"{app=\"flood\"}","entries":[{"ts":"1","line":""}"#.to_vec();
    legacy.extend(br#",{"ts":"1","line":""}"#.repeat(4_000_000));
    legacy.extend_from_slice(b"]}]}");
    // OTLP: 30 million empty log records in one scope of one resource (60 MB).
    let otlp = {
        let field = |tag: u8, inner: Vec<u8>| {
            let mut out = vec![tag];
            varint(&mut out, inner.len() as u64);
            out.extend(inner);
            out
        };
        field(0x0a, field(0x12, [0x12u8, 0x00].repeat(30_000_000)))
    };
    let mut otlp_json = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}"#.to_vec();
    otlp_json.extend(b",{}".repeat(20_000_000)); // 60 MB
    otlp_json.extend_from_slice(b"]}]}]}");
    let cases: [(&str, &str, Headers, Vec<u8>); 6] = [
        ("empty protobuf entries", "/loki/api/v1/push", vec![("Content-Type", "application/x-protobuf")], entries),
        ("empty protobuf streams", "/loki/api/v1/push", vec![("Content-Type", "application/x-protobuf")], streams),
        ("empty JSON entries", "/loki/api/v1/push", vec![("Content-Type", "application/json")], json),
        ("empty legacy JSON entries", "/api/prom/push", vec![("Content-Type", "application/json")], legacy),
        ("empty OTLP log records", "/otlp/v1/logs", vec![("Content-Type", "application/x-protobuf")], otlp),
        ("empty OTLP/JSON log records", "/otlp/v1/logs", vec![("Content-Type", "application/json")], otlp_json),
    ];
    for (name, path, headers, body) in cases {
        let (s, b) = h.post(path, &headers, body).await;
        assert_eq!(s, 413, "{name}: {b}");
        assert!(b.contains("push request too large once decoded") && b.contains("smaller pushes"), "{name}: {b}");
        let rss = peak_rss_mib(&srv);
        assert!(rss < 400, "{name}: peak RSS {rss} MiB");
        eprintln!("{name}: refused, peak RSS {rss} MiB");
        alive(&h).await;
    }
    // A million small entries with timestamps (10 bytes each, empty lines), and two thousand
    // streams of one: taken.
    let t = (now_ns() / 1_000_000_000) as u64;
    let mut entry = vec![0x12, 8, 0x0a, 6, 0x08];
    varint(&mut entry, t);
    assert_eq!(entry.len(), 10);
    let many = entry.repeat(1_000_000);
    let (s, b) = h
        .post(
            "/loki/api/v1/push",
            &[("Content-Type", "application/x-protobuf")],
            protobuf_push(&[(r#"{a="m"}"#, &many)]),
        )
        .await;
    assert_eq!(s, 204, "{b}");
    let labels: Vec<String> = (0..2000).map(|i| format!(r#"{{a="{}"}}"#, (b'a' + (i % 26) as u8) as char)).collect();
    let honest: Vec<(&str, &[u8])> = labels.iter().map(|l| (l.as_str(), &entry[..])).collect();
    let (s, b) =
        h.post("/loki/api/v1/push", &[("Content-Type", "application/x-protobuf")], protobuf_push(&honest)).await;
    assert_eq!(s, 204, "{b}");
}

// --------------------------------------------------------------------------------- slowloris

#[tokio::test]
async fn slowloris_connections_are_closed_and_the_server_keeps_answering() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let srv = Server::start(&[
        ("BITACORA_API__HTTP_HEADER_READ_TIMEOUT", "2s"),
        ("BITACORA_API__HTTP_IDLE_TIMEOUT", "3s"),
        ("BITACORA_API__MAX_CONNECTIONS", "100"),
    ]);
    let h = Http::new(&srv.addr);
    let addr = format!("127.0.0.1:{}", srv.port);
    // Four times the connection cap: 300 wait in the listen backlog, more than the 128 a plain
    // `TcpListener::bind` asks for (then Linux dropped and reset some of them, never accepted).
    let n = 400;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..n {
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
            let _ = c.write_all(format!("GET /ready HTTP/1.1\r\nHost: x\r\nX-Slow-{i}: ").as_bytes()).await;
            let t = Instant::now();
            // Trickle one header byte every 200 ms; the server must hang up.
            let mut buf = [0u8; 256];
            while t.elapsed() < Duration::from_secs(15) {
                if c.write_all(b"a").await.is_err() {
                    return Some(t.elapsed());
                }
                match tokio::time::timeout(Duration::from_millis(200), c.read(&mut buf)).await {
                    Ok(Ok(0)) | Ok(Err(_)) => return Some(t.elapsed()),
                    Ok(Ok(_)) => {} // a 408 before the close is fine
                    Err(_) => {}
                }
            }
            None
        }));
    }
    // While they trickle, a normal client is answered: it waits its turn behind the slow ones
    // (four rounds of the header timeout), then gets its answer.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let c = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let t = Instant::now();
    let r = c.get(srv.url("/ready")).send().await.expect("a normal request while slowloris connections are open");
    assert_eq!(r.status(), 200);
    eprintln!("normal request answered in {:?} with {n} slow connections", t.elapsed());
    let mut closed = Vec::new();
    for t in tasks {
        closed.push(t.await.unwrap().expect("a slowloris connection was never closed"));
    }
    let worst = closed.iter().max().unwrap();
    // Each closes after its header timeout (2 s), those beyond the cap after waiting for a slot
    // (four rounds of 2 s).
    assert!(*worst < Duration::from_secs(13), "worst {worst:?}");
    eprintln!("{n} slowloris connections closed, the last after {worst:?} (total {:?})", started.elapsed());
    let (_, m) = h.get("/metrics", &[]).await;
    let metric = |name: &str| -> f64 {
        m.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse().ok()).unwrap_or(-1.0)
    };
    assert!(metric("bitacora_http_connection_errors_total ") >= n as f64, "{m}");
    assert!(metric("bitacora_http_connections_accepted_total ") > n as f64, "{m}");
    // An idle keep-alive connection is closed too (by the header timeout of its next request).
    let closed_after = keep_alive_lifetime(&addr).await;
    assert!(closed_after >= Duration::from_millis(1500), "closed too early: {closed_after:?}");
    alive(&h).await;

    // With a long header timeout, the idle timeout closes it.
    let srv =
        Server::start(&[("BITACORA_API__HTTP_HEADER_READ_TIMEOUT", "60s"), ("BITACORA_API__HTTP_IDLE_TIMEOUT", "1s")]);
    let closed_after = keep_alive_lifetime(&format!("127.0.0.1:{}", srv.port)).await;
    assert!(closed_after >= Duration::from_millis(800), "closed too early: {closed_after:?}");
    let (_, m) = Http::new(&srv.addr).get("/metrics", &[]).await;
    assert!(m.contains("bitacora_http_connections_closed_idle_total 1"), "{m}");
}

/// Sends one request on a keep-alive connection and returns how long the server kept it open
/// after answering (at most 10 s).
async fn keep_alive_lifetime(addr: &str) -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
    c.write_all(b"GET /ready HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut got = Vec::new();
    let t = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(k)) => got.extend_from_slice(&buf[..k]),
            Err(_) => panic!("an idle keep-alive connection was kept open for 10 s"),
        }
    }
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 200"), "{}", String::from_utf8_lossy(&got));
    eprintln!("keep-alive connection closed {:?} after its request", t.elapsed());
    t.elapsed()
}

// --------------------------------------------------------------------------- corrupt blocks

#[tokio::test]
async fn a_corrupt_block_fails_the_query_and_is_counted() {
    let env = [("BITACORA_STORE__BLOCK_BYTES", "16384"), ("BITACORA_API__MAX_ENTRIES_LIMIT_PER_QUERY", "20000")];
    let mut srv = Server::start(&env);
    let dir = srv.dir.clone();
    let h = Http::new(&srv.addr);
    let t0 = now_ns() - 600_000_000_000;
    let mut x: u64 = 0x9e3779b97f4a7c15;
    let values: Vec<_> = (0..10_000i64)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            json!([(t0 + i * 1_000_000).to_string(), format!("line {i} {x:016x} {:016x}", x.rotate_left(17))])
        })
        .collect();
    let (s, b) = h.push_json(&json!({"streams": [{"stream": {"app": "c"}, "values": values}]})).await;
    assert_eq!(s, 204, "{b}");
    let (s, b) = h.post("/flush", &[], vec![]).await;
    assert_eq!(s, 204, "{b}");
    let (start, end) = (t0.to_string(), (t0 + 20_000_000_000).to_string());
    let count = "sum(count_over_time({app=\"c\"} |= \"line\" [1h]))";
    let v = h.get_json("/loki/api/v1/query", &[("query", count), ("time", &end)]).await;
    assert_eq!(v["data"]["result"][0]["value"][1], "10000", "{v}");
    srv.terminate();

    let mut segs: Vec<_> = Vec::new();
    for day in std::fs::read_dir(dir.join("segments")).unwrap() {
        for f in std::fs::read_dir(day.unwrap().path()).unwrap() {
            let p = f.unwrap().path();
            if p.extension().is_some_and(|e| e == "seg") {
                segs.push(p);
            }
        }
    }
    segs.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).unwrap().len()));
    assert!(!segs.is_empty());
    let mut bytes = std::fs::read(&segs[0]).unwrap();
    let at = bytes.len() / 3; // among the blocks, far from the footer
    for b in &mut bytes[at..at + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&segs[0], &bytes).unwrap();

    let srv = Server::start_in(&dir, &env);
    let h = Http::new(&srv.addr);
    let seg_name = segs[0].file_name().unwrap().to_string_lossy().to_string();
    let log = [("query", "{app=\"c\"}"), ("start", start.as_str()), ("end", end.as_str()), ("limit", "10000")];
    let (s, b) = h.get("/loki/api/v1/query_range", &log).await;
    assert_eq!(s, 500, "a log query over a corrupt block must not answer a partial 200: {}", &b[..b.len().min(300)]);
    assert!(b.contains("data corruption") && b.contains(&seg_name), "{b}");
    let (s, b) = h.get("/loki/api/v1/query", &[("query", count), ("time", &end)]).await;
    assert_eq!(s, 500, "a metric query over a corrupt block: {}", &b[..b.len().min(300)]);
    assert!(b.contains("data corruption"), "{b}");
    let (_, m) = h.get("/metrics", &[]).await;
    let n: f64 = m
        .lines()
        .find_map(|l| l.strip_prefix("bitacora_store_corrupt_blocks_read_total "))
        .unwrap_or_else(|| panic!("no corrupt-block counter in /metrics:\n{m}"))
        .parse()
        .unwrap();
    assert!(n >= 2.0, "counted {n}");
    alive(&h).await;
}

// ---------------------------------------------------------------------- parameters in range

#[tokio::test]
async fn out_of_range_parameters_are_400_naming_the_parameter() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let q = "{app=\"p\"}";
    let m = "count_over_time({app=\"p\"}[1m])";
    let cases: Vec<Case<&str>> = vec![
        ("/loki/api/v1/query", vec![("query", q), ("time", "9300000000.5")], "'time'"),
        ("/loki/api/v1/query", vec![("query", q), ("time", "-9300000000.5")], "'time'"),
        ("/loki/api/v1/query", vec![("query", q), ("time", "9999999999")], "'time'"),
        ("/loki/api/v1/query", vec![("query", q), ("time", "2300-01-01T00:00:00Z")], "'time'"),
        ("/loki/api/v1/query", vec![("query", q), ("time", "NaN")], "'time'"),
        ("/loki/api/v1/query", vec![("query", q), ("time", "1e400")], "'time'"),
        ("/loki/api/v1/query", vec![("query", q), ("limit", "-5")], "limit"),
        ("/loki/api/v1/query_range", vec![("query", q), ("end", "9300000000.5")], "'end'"),
        ("/loki/api/v1/query_range", vec![("query", q), ("start", "-9999999999")], "'start'"),
        ("/loki/api/v1/query_range", vec![("query", q), ("since", "300000d")], "'since'"),
        ("/loki/api/v1/query_range", vec![("query", q), ("limit", "0")], "limit"),
        ("/loki/api/v1/query_range", vec![("query", q), ("limit", "99999999999999999999")], "limit"),
        ("/loki/api/v1/query_range", vec![("query", m), ("step", "1e300")], "step"),
        ("/loki/api/v1/query_range", vec![("query", m), ("step", "NaN")], "step"),
        ("/loki/api/v1/query_range", vec![("query", m), ("step", "-Inf")], "step"),
        ("/loki/api/v1/query_range", vec![("query", m), ("step", "-1")], "step"),
        ("/loki/api/v1/query_range", vec![("query", m), ("step", "300000000d")], "step"),
        ("/loki/api/v1/query_range", vec![("query", m), ("step", "0.0001")], "step"),
        ("/loki/api/v1/query_range", vec![("query", q), ("interval", "1e300")], "interval"),
        ("/loki/api/v1/query_range", vec![("query", q), ("interval", "-1")], "interval"),
        ("/loki/api/v1/labels", vec![("start", "9300000000.5")], "'start'"),
        ("/loki/api/v1/series", vec![("match[]", q), ("end", "2300-01-01T00:00:00Z")], "'end'"),
        ("/loki/api/v1/index/volume_range", vec![("query", q), ("step", "0.000000001")], "step"),
        ("/loki/api/v1/index/volume_range", vec![("query", q), ("step", "1e300")], "step"),
        ("/loki/api/v1/index/volume", vec![("query", q), ("limit", "-1")], "limit"),
    ];
    let c = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    for (path, params, names) in cases {
        let r = c.get(srv.url(path)).query(&params).send().await.unwrap_or_else(|e| panic!("{path} {params:?}: {e}"));
        let s = r.status().as_u16();
        let b = r.text().await.unwrap();
        assert_eq!(s, 400, "{path} {params:?}: {b}");
        assert!(b.contains(names), "{path} {params:?}: the message names {names}: {b}");
    }
    // In range is still fine, including the edges of what nanoseconds hold.
    for (path, params) in [
        ("/loki/api/v1/query", vec![("query", m), ("time", "9223372035.5")]),
        (
            "/loki/api/v1/query_range",
            vec![("query", q), ("start", "9223372000000000000"), ("end", "9223372036854775807")],
        ),
        ("/loki/api/v1/query_range", vec![("query", m), ("step", "60")]),
    ] {
        let (s, b) = h.get(path, &params).await;
        assert_eq!(s, 200, "{path} {params:?}: {b}");
    }
    alive(&h).await;
}

// ----------------------------------------------------------------------------------- secrets

#[tokio::test]
async fn config_masks_every_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bitacora.yaml");
    std::fs::write(
        &file,
        "agent:\n  basic_auth: {username: alice, password: file-password-1}\n  push_url: http://bob:url-password-2@logs.example:3100/loki/api/v1/push\n",
    )
    .unwrap();
    let srv =
        Server::start(&[("BITACORA_CONFIG", file.to_str().unwrap()), ("BITACORA_AGENT__BEARER_TOKEN", "env-token-3")]);
    let h = Http::new(&srv.addr);
    let (s, c) = h.get("/config", &[]).await;
    assert_eq!(s, 200);
    for secret in ["file-password-1", "url-password-2", "env-token-3"] {
        assert!(!c.contains(secret), "/config shows {secret}:\n{c}");
    }
    for key in ["password:", "bearer_token:", "push_url:"] {
        let line = c.lines().find(|l| l.trim_start().starts_with(key)).unwrap_or_else(|| panic!("no {key}: {c}"));
        assert!(line.contains("<secret>"), "{line}");
    }
    assert!(c.contains("logs.example:3100"), "the URL stays readable: {c}");
    assert!(c.contains("username: alice"), "{c}");
}

// ------------------------------------------------------------------------- big matrix answers

/// A range query within every limit (300 series, 3,001 steps): each point used to carry a copy
/// of its series' labels and a JSON value of its own, about a kilobyte, so the answer held
/// near a gigabyte (and the limits allow 500 series of 11,000 steps).
#[tokio::test]
async fn a_matrix_answer_within_the_limits_is_not_copied_per_point() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t0 = (now_ns() - 7_200_000_000_000) / 1_000_000_000 * 1_000_000_000;
    let values: Vec<_> = (0..300i64)
        .map(|i| {
            json!([(t0 + i * 1_000_000).to_string(), format!("id=id-number-{i:04} path=/api/v1/some/long/path/{i}")])
        })
        .collect();
    let (s, b) =
        h.push_json(&json!({"streams": [{"stream": {"app": "m", "host": "a-host-name"}, "values": values}]})).await;
    assert_eq!(s, 204, "{b}");
    let before = peak_rss_mib(&srv);
    let (start, end) = ((t0 / 1_000_000_000 + 1).to_string(), (t0 / 1_000_000_000 + 3001).to_string());
    let v = h
        .get_json(
            "/loki/api/v1/query_range",
            &[("query", "count_over_time({app=\"m\"} | logfmt [1h])"), ("start", &start), ("end", &end), ("step", "1")],
        )
        .await;
    let result = v["data"]["result"].as_array().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(result.len(), 300);
    for s in result {
        assert_eq!(s["values"].as_array().unwrap().len(), 3001, "{}", s["metric"]);
        assert_eq!(s["values"][0][1], "1");
        assert_eq!(s["metric"]["host"], "a-host-name");
    }
    let peak = peak_rss_mib(&srv);
    eprintln!("peak RSS {before} MiB before, {peak} MiB after 900,300 points");
    assert!(peak < before + 300, "{before} -> {peak} MiB");
    alive(&h).await;
}

/// A megabyte-long label made by `label_format`, grouped by: its group's label set was built
/// again at every step (1,000 copies, 980 MiB).
#[tokio::test]
async fn a_long_grouping_label_is_not_copied_per_step() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t0 = (now_ns() - 7_200_000_000_000) / 1_000_000_000 * 1_000_000_000;
    let values: Vec<_> = (0..20i64).map(|i| json!([(t0 + i * 1_000_000).to_string(), format!("line {i}")])).collect();
    let (s, b) = h.push_json(&json!({"streams": [{"stream": {"app": "x"}, "values": values}]})).await;
    assert_eq!(s, 204, "{b}");
    let before = peak_rss_mib(&srv);
    let (start, end) = ((t0 / 1_000_000_000 + 1).to_string(), (t0 / 1_000_000_000 + 1000).to_string());
    let q = "sum by (x) (count_over_time({app=\"x\"} | label_format x=`{{ repeat 1000000 \"a\" }}` [1h]))";
    let v =
        h.get_json("/loki/api/v1/query_range", &[("query", q), ("start", &start), ("end", &end), ("step", "1")]).await;
    let result = v["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 1);
    assert_eq!(result[0]["metric"]["x"].as_str().unwrap().len(), 1_000_000);
    assert_eq!(result[0]["values"].as_array().unwrap().len(), 1000);
    assert_eq!(result[0]["values"][0][1], "20");
    let peak = peak_rss_mib(&srv);
    eprintln!("peak RSS {before} MiB before, {peak} MiB after");
    assert!(peak < before + 300, "{before} -> {peak} MiB");
    alive(&h).await;
}
