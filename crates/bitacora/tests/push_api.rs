//! Loki's push API on a real server: every body format in, the same lines out through every
//! read endpoint; bad input refused with a clear message and nothing stored harmed.

mod common;

use std::io::Write;

use api::proto;
use common::{Http, Server, now_ns};
use prost::Message;
use serde_json::json;

fn snappy_proto(req: &proto::PushRequest) -> Vec<u8> {
    snap::raw::Encoder::new().compress_vec(&req.encode_to_vec()).unwrap()
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

fn deflate(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn every_format_in_every_endpoint_out() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t0 = now_ns() - 60_000_000_000;
    let ts = |i: i64| (t0 + i * 1_000_000).to_string();

    // v1 JSON, with structured metadata on one entry.
    let (s, b) = h
        .push_json(&json!({"streams": [{"stream": {"app": "json", "env": "prod"}, "values": [
            [ts(0), "json line 0"], [ts(1), "json line 1 <b>&", {"trace_id": "t-1"}]]}]}))
        .await;
    assert_eq!((s, b.as_str()), (204, ""));
    // gzip JSON and deflate JSON.
    let body = serde_json::to_vec(&json!({"streams": [{"stream": {"app": "gzip"}, "values": [[ts(2), "gzip line"]]}]}))
        .unwrap();
    let (s, b) = h
        .post("/loki/api/v1/push", &[("Content-Type", "application/json"), ("Content-Encoding", "gzip")], gzip(&body))
        .await;
    assert_eq!(s, 204, "{b}");
    let body =
        serde_json::to_vec(&json!({"streams": [{"stream": {"app": "deflate"}, "values": [[ts(3), "deflate line"]]}]}))
            .unwrap();
    let (s, b) = h
        .post(
            "/loki/api/v1/push",
            &[("Content-Type", "application/json"), ("Content-Encoding", "deflate")],
            deflate(&body),
        )
        .await;
    assert_eq!(s, 204, "{b}");
    // Protobuf + snappy, as Promtail and Alloy send it.
    let req = proto::PushRequest {
        streams: vec![proto::StreamAdapter {
            labels: r#"{app="proto", stream="stdout"}"#.into(),
            entries: (4..7)
                .map(|i| proto::EntryAdapter {
                    timestamp: Some(proto::Timestamp {
                        seconds: (t0 + i * 1_000_000) / 1_000_000_000,
                        nanos: ((t0 + i * 1_000_000) % 1_000_000_000) as i32,
                    }),
                    line: format!("proto line {i}"),
                    structured_metadata: if i == 5 {
                        vec![proto::LabelPairAdapter { name: "user".into(), value: "u5".into() }]
                    } else {
                        vec![]
                    },
                    parsed: vec![],
                })
                .collect(),
            hash: 0,
        }],
        format: String::new(),
    };
    let (s, b) = h.post("/loki/api/v1/push", &[("Content-Type", "application/x-protobuf")], snappy_proto(&req)).await;
    assert_eq!(s, 204, "{b}");
    // Legacy JSON on the legacy path.
    let rfc = jiff::Timestamp::from_nanosecond((t0 + 7_000_000) as i128).unwrap().to_string();
    let (s, b) = h
        .post(
            "/api/prom/push",
            &[("Content-Type", "application/json")],
            serde_json::to_vec(
                &json!({"streams": [{"labels": "{app=\"legacy\"}", "entries": [{"ts": rfc, "line": "legacy line"}]}]}),
            )
            .unwrap(),
        )
        .await;
    assert_eq!(s, 204, "{b}");

    let start = (t0 - 1_000_000_000).to_string();
    let end = (now_ns() + 1_000_000_000).to_string();
    let window = [("start", start.as_str()), ("end", end.as_str())];

    // Labels and values: service_name is discovered from app, as Loki does by default.
    let v = h.get_json("/loki/api/v1/labels", &window).await;
    assert_eq!(v["data"], json!(["app", "env", "service_name", "stream"]));
    let v = h.get_json("/loki/api/v1/label/app/values", &window).await;
    assert_eq!(v["data"], json!(["deflate", "gzip", "json", "legacy", "proto"]));
    let v = h.get_json("/loki/api/v1/label/app/values", &[window[0], window[1], ("query", "{env=\"prod\"}")]).await;
    assert_eq!(v["data"], json!(["json"]));
    // Series.
    let v = h.get_json("/loki/api/v1/series", &[window[0], window[1], ("match[]", "{app=~\"g.*|p.*\"}")]).await;
    let mut series: Vec<String> = v["data"].as_array().unwrap().iter().map(|s| s.to_string()).collect();
    series.sort();
    assert_eq!(
        series,
        vec![r#"{"app":"gzip","service_name":"gzip"}"#, r#"{"app":"proto","service_name":"proto","stream":"stdout"}"#]
    );
    // Index stats.
    let v = h.get_json("/loki/api/v1/index/stats", &[window[0], window[1], ("query", "{app=\"proto\"}")]).await;
    assert_eq!(v["streams"], 1);
    assert_eq!(v["entries"], 3);
    assert_eq!(v["bytes"], "proto line 4".len() * 3);
    // Volume by app.
    let v = h.get_json("/loki/api/v1/index/volume", &[window[0], window[1], ("query", "{app=~\".+\"}")]).await;
    assert_eq!(v["data"]["resultType"], "vector");
    assert_eq!(v["data"]["result"][0]["metric"], json!({"app": "proto"}));
    assert_eq!(v["data"]["result"][0]["value"][1], "36");

    let v = h
        .get_json(
            "/loki/api/v1/index/volume_range",
            &[window[0], window[1], ("query", "{app=~\"proto|gzip\"}"), ("step", "1h")],
        )
        .await;
    assert_eq!(v["data"]["resultType"], "matrix");
    let totals: Vec<(String, u64)> = v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let sum =
                s["values"].as_array().unwrap().iter().map(|p| p[1].as_str().unwrap().parse::<u64>().unwrap()).sum();
            (s["metric"]["app"].as_str().unwrap().to_string(), sum)
        })
        .collect();
    assert_eq!(totals, vec![("proto".to_string(), 36), ("gzip".to_string(), 9)], "largest first: {v}");
    let v = h.get_json("/loki/api/v1/detected_labels", &window).await;
    let names: Vec<&str> =
        v["detectedLabels"].as_array().unwrap().iter().map(|l| l["label"].as_str().unwrap()).collect();
    assert!(names.contains(&"app") && names.contains(&"service_name"), "{v}");
    let app = v["detectedLabels"].as_array().unwrap().iter().find(|l| l["label"] == "app").unwrap();
    assert_eq!(app["cardinality"], 5);

    // The lines themselves, through query_range, before and after a flush.
    for round in 0..2 {
        let v = h
            .get_json(
                "/loki/api/v1/query_range",
                &[window[0], window[1], ("query", "{app=\"proto\"}"), ("direction", "forward")],
            )
            .await;
        assert_eq!(v["status"], "success");
        assert_eq!(v["data"]["resultType"], "streams");
        let result = v["data"]["result"].as_array().unwrap();
        // The entry with metadata is its own stream in Loki's default encoding.
        let all: Vec<&serde_json::Value> = result.iter().flat_map(|s| s["values"].as_array().unwrap()).collect();
        assert_eq!(all.len(), 3, "round {round}: {v}");
        let with_user = result.iter().find(|s| s["stream"]["user"] == "u5").expect("metadata in stream labels");
        assert_eq!(with_user["values"][0][1], "proto line 5");
        assert_eq!(with_user["values"][0][0], ts(5));
        assert!(v["data"]["stats"]["summary"]["totalLinesProcessed"].as_u64().is_some());
        // Go's HTML escaping is kept byte for byte.
        let (_, raw) =
            h.get("/loki/api/v1/query_range", &[window[0], window[1], ("query", "{app=\"json\"} |= \"<b>\"")]).await;
        assert!(raw.contains(r#""json line 1 \u003cb\u003e\u0026""#), "{raw}");
        let (s, _) = h.post("/flush", &[], vec![]).await;
        assert_eq!(s, 204);
    }
}

#[tokio::test]
async fn bad_input_is_refused_clearly_and_stored_data_is_intact() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let now = now_ns();
    let (s, _) = h
        .push_json(&json!({"streams": [{"stream": {"app": "keep"}, "values": [[now.to_string(), "kept line"]]}]}))
        .await;
    assert_eq!(s, 204);
    let json_h = [("Content-Type", "application/json")];
    /// name, headers, body, expected status, expected message part
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("malformed JSON", json_h.to_vec(), b"{\"streams\": [".to_vec(), 400, "could not decode the JSON push request"),
        (
            "number timestamp",
            json_h.to_vec(),
            br#"{"streams":[{"stream":{"a":"b"},"values":[[1,"x"]]}]}"#.to_vec(),
            400,
            "could not decode",
        ),
        (
            "metadata not strings",
            json_h.to_vec(),
            format!(r#"{{"streams":[{{"stream":{{"a":"b"}},"values":[["{now}","x",{{"k":1}}]]}}]}}"#).into_bytes(),
            400,
            "could not decode",
        ),
        (
            "bad label name",
            json_h.to_vec(),
            format!(r#"{{"streams":[{{"stream":{{"a-b":"c"}},"values":[["{now}","x"]]}}]}}"#).into_bytes(),
            400,
            "couldn't parse labels",
        ),
        ("no streams", json_h.to_vec(), br#"{"streams":[]}"#.to_vec(), 422, "at least one valid stream"),
        (
            "bad snappy",
            vec![("Content-Type", "application/x-protobuf")],
            b"\xff\xff\xff\xffnot snappy".to_vec(),
            400,
            "snappy",
        ),
        (
            "bad protobuf",
            vec![("Content-Type", "application/x-protobuf")],
            snap::raw::Encoder::new().compress_vec(b"\x0a\xff\xff\xff").unwrap(),
            400,
            "protobuf",
        ),
        (
            "bad proto labels",
            vec![("Content-Type", "application/x-protobuf")],
            snappy_proto(&proto::PushRequest {
                streams: vec![proto::StreamAdapter { labels: "{app=unquoted}".into(), entries: vec![], hash: 0 }],
                format: String::new(),
            }),
            400,
            "couldn't parse labels",
        ),
        (
            "bad encoding",
            vec![("Content-Type", "application/json"), ("Content-Encoding", "br")],
            b"{}".to_vec(),
            400,
            "Content-Encoding \"br\" not supported",
        ),
        (
            "bad gzip",
            vec![("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
            b"not gzip".to_vec(),
            400,
            "could not decompress the gzip body",
        ),
        ("bad content type", vec![("Content-Type", "application/")], b"{}".to_vec(), 400, "invalid Content-Type"),
    ];
    for (name, headers, body, status, msg) in cases {
        let (s, b) = h.post("/loki/api/v1/push", &headers, body).await;
        assert_eq!(s, status, "{name}: {b}");
        assert!(b.contains(msg), "{name}: {b:?} should contain {msg:?}");
    }
    // Validation per stream and per entry: 400, and the valid rest is stored.
    let many: serde_json::Map<String, serde_json::Value> = (0..16).map(|i| (format!("l{i}"), json!("v"))).collect();
    let long = "x".repeat(262_145);
    let old = (now - 8 * 86_400_000_000_000).to_string();
    let future = (now + 3_600_000_000_000).to_string();
    let (s, b) = h
        .push_json(&json!({"streams": [
            {"stream": many, "values": [[now.to_string(), "too many labels"]]},
            {"stream": {"app": "v"}, "values": [
                [(now + 1).to_string(), "valid one"], [(now + 2).to_string(), long], [old, "stale"], [future, "future"]]},
            {"stream": {"app": "w", "long": "y".repeat(2049)}, "values": [[now.to_string(), "long value"]]}
        ]}))
        .await;
    assert_eq!(s, 400);
    for msg in [
        "has 16 label names; limit 15",
        "max entry size '262144' bytes exceeded",
        "has timestamp too old",
        "has timestamp too new",
        "has label value too long",
    ] {
        assert!(b.contains(msg), "missing {msg:?} in {b}");
    }
    // Methods and paths.
    let (s, b) = h.get("/loki/api/v1/push", &[]).await;
    assert_eq!(s, 405, "{b}");
    assert!(b.contains("not allowed"), "{b}");
    let (s, b) = h.get("/loki/api/v1/nope", &[]).await;
    assert_eq!((s, b.trim()), (404, "404 page not found"));
    let (s, _) = h.get("/loki/api/v2alpha/tail", &[]).await;
    assert_eq!(s, 404, "Grafana probes v2 tail and must get 404");
    // Read-side parameter errors.
    let (s, b) = h.get("/loki/api/v1/labels", &[("start", "yesterday")]).await;
    assert_eq!(s, 400);
    assert!(b.contains("could not parse 'start' parameter"), "{b}");
    let (s, b) = h.get("/loki/api/v1/series", &[("match[]", "{app=\"x\"} |= \"y\"")]).await;
    assert_eq!((s, b.as_str()), (400, "only label matchers are supported"));
    let (s, b) = h.get("/loki/api/v1/index/stats", &[("query", "{app=~\".*\"}")]).await;
    assert_eq!(s, 400);
    assert!(b.contains("queries require at least one regexp or equality matcher"), "{b}");

    // What was stored is intact: exactly the two valid lines.
    let start = (now - 1_000_000_000).to_string();
    let end = (now + 1_000_000_000).to_string();
    let v = h.get_json("/loki/api/v1/series", &[("start", &start), ("end", &end)]).await;
    assert_eq!(v["data"].as_array().unwrap().len(), 2, "{v}");
    let lines = h.all_lines("{app=~\"keep|v\"}", now - 1_000_000_000, now + 1_000_000_000).await;
    assert_eq!(lines.iter().map(|l| l.1.as_str()).collect::<Vec<_>>(), vec!["kept line", "valid one"]);
}

#[tokio::test]
async fn rate_limit_and_tenants() {
    let srv = Server::start(&[
        ("BITACORA_LIMITS__INGESTION_RATE_MB", "1"),
        ("BITACORA_LIMITS__INGESTION_BURST_SIZE_MB", "1"),
        ("BITACORA_API__AUTH_ENABLED", "true"),
    ]);
    let h = Http::new(&srv.addr);
    let now = now_ns();
    let body = |line: &str| {
        serde_json::to_vec(&json!({"streams": [{"stream": {"app": "r"}, "values": [[now.to_string(), line]]}]}))
            .unwrap()
    };
    let (s, b) = h.post("/loki/api/v1/push", &[("Content-Type", "application/json")], body("x")).await;
    assert_eq!((s, b.as_str()), (401, "no org id"));
    let hdr = [("Content-Type", "application/json"), ("X-Scope-OrgID", "team-a")];
    let (s, b) = h.post("/loki/api/v1/push", &hdr, body(&"y".repeat(200_000))).await;
    assert_eq!(s, 204, "{b}");
    let big = "z".repeat(262_000);
    let mut limited = None;
    for i in 0..8 {
        let (s, b) = h.post("/loki/api/v1/push", &hdr, body(&format!("{i}{big}"))).await;
        if s == 429 {
            limited = Some(b);
            break;
        }
    }
    let b = limited.expect("a 1 MiB/s limit must answer 429 to 2 MB sent at once");
    assert!(b.contains("ingestion rate limit exceeded for user team-a"), "{b}");
    // Another tenant sees nothing of team-a.
    let r = h.c.get(format!("{}/loki/api/v1/labels", srv.addr)).header("X-Scope-OrgID", "team-b").send().await.unwrap();
    assert_eq!(r.text().await.unwrap(), r#"{"status":"success"}"#);
    let r = h.c.get(format!("{}/loki/api/v1/labels", srv.addr)).header("X-Scope-OrgID", "team-a").send().await.unwrap();
    assert!(r.text().await.unwrap().contains("\"app\""));
}

/// Lines over `max_line_size`: cut at the last character boundary within it when
/// `max_line_size_truncate` is on (a protobuf push's lines are borrowed from its body, a JSON
/// push's owned: both are cut), stored cut in the WAL and the segments alike; refused with
/// Loki's message when it is off, the rest of the push stored.
#[tokio::test]
async fn long_lines_are_cut_at_a_character_boundary_or_refused() {
    let limit = 9;
    let long = "ñandú ñandú ñandú"; // 'ñ' and 'ú' are two bytes: byte 9 falls inside the second 'ñ'
    let mut cut = limit;
    while !long.is_char_boundary(cut) {
        cut -= 1;
    }
    let want_cut = &long[..cut];
    assert!(cut < limit && want_cut.len() < long.len(), "the limit falls inside a character");
    let t0 = now_ns() - 60_000_000_000;
    let proto_push = |app: &str| {
        let entries = [long, "short"]
            .iter()
            .enumerate()
            .map(|(i, line)| proto::EntryAdapter {
                timestamp: Some(proto::Timestamp {
                    seconds: (t0 + i as i64) / 1_000_000_000,
                    nanos: ((t0 + i as i64) % 1_000_000_000) as i32,
                }),
                line: line.to_string(),
                structured_metadata: vec![],
                parsed: vec![],
            })
            .collect();
        let req = proto::PushRequest {
            streams: vec![proto::StreamAdapter { labels: format!(r#"{{app="{app}"}}"#), entries, hash: 0 }],
            format: String::new(),
        };
        snappy_proto(&req)
    };
    let proto_h = [("Content-Type", "application/x-protobuf")];
    let limit_s = limit.to_string();

    let dir = tempfile::tempdir().unwrap();
    let env =
        [("BITACORA_LIMITS__MAX_LINE_SIZE", limit_s.as_str()), ("BITACORA_LIMITS__MAX_LINE_SIZE_TRUNCATE", "true")];
    let mut srv = Server::start_in(dir.path(), &env);
    let h = Http::new(&srv.addr);
    let (s, b) = h.post("/loki/api/v1/push", &proto_h, proto_push("proto")).await;
    assert_eq!(s, 204, "{b}");
    let (s, b) =
        h.push_json(&json!({"streams": [{"stream": {"app": "json"}, "values": [[(t0 + 5).to_string(), long]]}]})).await;
    assert_eq!(s, 204, "{b}");
    let lines = |h: &Http, app: &'static str| {
        let h = h.clone();
        async move {
            h.all_lines(&format!(r#"{{app="{app}"}}"#), t0 - 1, now_ns())
                .await
                .into_iter()
                .map(|(_, l)| l)
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(lines(&h, "proto").await, vec![want_cut.to_string(), "short".to_string()]);
    assert_eq!(lines(&h, "json").await, vec![want_cut.to_string()]);
    // As the WAL replays them after a kill, and as a flush writes them.
    srv.kill9();
    let mut srv = Server::start_in(dir.path(), &env);
    let h = Http::new(&srv.addr);
    assert_eq!(lines(&h, "proto").await, vec![want_cut.to_string(), "short".to_string()]);
    let (s, _) = h.post("/flush", &[], vec![]).await;
    assert_eq!(s, 204);
    assert_eq!(lines(&h, "proto").await, vec![want_cut.to_string(), "short".to_string()]);
    srv.terminate();

    // Truncation off: the long line is refused with Loki's message, the short one stored.
    let srv = Server::start(&[("BITACORA_LIMITS__MAX_LINE_SIZE", limit_s.as_str())]);
    let h = Http::new(&srv.addr);
    let (s, b) = h.post("/loki/api/v1/push", &proto_h, proto_push("strict")).await;
    assert_eq!(s, 400, "{b}");
    assert!(b.contains(&format!("max entry size '{limit}' bytes exceeded for stream")), "{b}");
    assert!(b.contains(&format!("while adding an entry with length '{}' bytes", long.len())), "{b}");
    assert_eq!(lines(&h, "strict").await, vec!["short".to_string()]);
}
