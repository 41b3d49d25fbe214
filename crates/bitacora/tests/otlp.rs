//! `POST /otlp/v1/logs` against a real server: the OpenTelemetry Python SDK's OTLP/HTTP exporter
//! (protobuf, via the standard library's logging), OTLP/JSON and gzip bodies from reqwest, the
//! tenant's `otlp_config` (and each tenant's own, from `overrides`), and bad bodies refused with a message naming the problem.

mod common;

use std::io::Write;
use std::process::Command;

use common::{Http, Server, now_ns};
use serde_json::{Value, json};

/// The entries of a log query as (stream labels, structured metadata, ts, line), with Loki's
/// categorised labels so stream labels and metadata can be told apart.
async fn entries(h: &Http, query: &str) -> Vec<(Value, Value, i64, String)> {
    let r =
        h.c.get(format!("{}/loki/api/v1/query_range", h.base))
            .header("X-Loki-Response-Encoding-Flags", "categorize-labels")
            .query(&[("query", query), ("since", "1h"), ("direction", "forward"), ("limit", "1000")])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let mut out = Vec::new();
    for s in v["data"]["result"].as_array().unwrap() {
        for e in s["values"].as_array().unwrap() {
            out.push((
                s["stream"].clone(),
                e[2]["structuredMetadata"].clone(),
                e[0].as_str().unwrap().parse().unwrap(),
                e[1].as_str().unwrap().to_string(),
            ));
        }
    }
    out.sort_by_key(|e| e.2);
    out
}

#[tokio::test]
async fn python_sdk_logs_arrive_as_loki_maps_them() {
    let srv = Server::start(&[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/otel_logs.py");
    let before = now_ns();
    let out = Command::new("python3")
        .args([script, &srv.url("/otlp/v1/logs"), "run7"])
        .output()
        .expect("python3 must be installed");
    assert!(
        out.status.success(),
        "the OpenTelemetry SDK failed (scripts/test.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = now_ns();
    let printed = String::from_utf8_lossy(&out.stdout);
    let ids: Vec<&str> = printed.lines().collect();
    let (trace_id, span_id) = (ids[0], ids[1]);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("Failed to export"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let h = Http::new(&srv.addr);
    let got = entries(&h, r#"{service_name="checkout"}"#).await;
    assert_eq!(got.len(), 3, "{got:?}");
    let lines: Vec<&str> = got.iter().map(|e| e.3.as_str()).collect();
    assert_eq!(lines, ["card declined for order 42", "payment gateway timeout", "no span here"]);

    // The default resource attributes are the stream's labels, `.` → `_`; nothing else is.
    let labels = got[0].0.as_object().unwrap();
    let mut names: Vec<&str> = labels.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        ["deployment_environment_name", "k8s_pod_name", "service_instance_id", "service_name", "service_namespace"]
    );
    assert_eq!(labels["deployment_environment_name"], "test");
    assert_eq!(labels["service_namespace"], "shop");
    assert_eq!(labels["k8s_pod_name"], "checkout-7d9f");

    // Record fields, log attributes, other resource attributes and the scope: metadata.
    let m = &got[0].1;
    assert_eq!(m["severity_text"], "WARN");
    assert_eq!(m["severity_number"], "13");
    assert_eq!(m["detected_level"], "warn");
    assert_eq!(m["trace_id"], trace_id);
    assert_eq!(m["span_id"], span_id);
    assert_ne!(m["flags"], Value::Null);
    assert_eq!(m["order_id"], "42");
    assert_eq!(m["amount"], "12.5");
    assert_eq!(m["host_name"], "node-1");
    assert_eq!(m["run"], "run7");
    assert_eq!(m["telemetry_sdk_language"], "python");
    assert_eq!(m["scope_name"], "shop.payments");
    assert!(m.get("service_name").is_none(), "an index label is not repeated as metadata");
    assert_eq!(got[1].1["detected_level"], "error");
    assert_eq!(got[1].1["trace_id"], trace_id);
    assert_eq!(got[2].1["detected_level"], "info");
    assert!(got[2].1.get("trace_id").is_none(), "outside the span: no trace context");

    // The record's own time (the logging call's), with the observed time beside it.
    for (_, m, ts, _) in &got {
        assert!(*ts >= before - 1_000_000_000 && *ts <= after, "{ts} not in [{before}, {after}]");
        let observed: i64 = m["observed_timestamp"].as_str().unwrap().parse().unwrap();
        assert!(observed >= *ts, "observed {observed} before {ts}");
    }
    // Usable in LogQL as any metadata is.
    let v = h
        .get_json(
            "/loki/api/v1/query_range",
            &[
                ("query", &format!(r#"{{service_name="checkout"}} | trace_id="{trace_id}" | detected_level="error""#)),
                ("since", "1h"),
            ],
        )
        .await;
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["data"]["result"][0]["values"][0][1], "payment gateway timeout");
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(b).unwrap();
    e.finish().unwrap()
}

#[tokio::test]
async fn json_and_gzip_bodies() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t = now_ns() - 5_000_000_000;
    // OTLP/JSON as the spec writes it (camelCase, 64-bit integers as strings, hex ids, an enum
    // number), a second record in proto field names with an enum name, and non-string bodies.
    let body = json!({"resourceLogs": [{
    "resource": {"attributes": [
        {"key": "k8s.namespace.name", "value": {"stringValue": "prod"}},
        {"key": "k8s.container.name", "value": {"stringValue": "api"}}]},
    "scopeLogs": [{"scope": {"name": "json.scope", "version": "3.1"}, "logRecords": [
        {"timeUnixNano": t.to_string(), "severityNumber": 17, "body": {"stringValue": "json line"},
         "traceId": "0AF7651916CD43DD8448EB211C80319C", "spanId": "b7ad6b7169203331",
         "attributes": [{"key": "http.route", "value": {"stringValue": "/pay"}},
                        {"key": "retries", "value": {"intValue": "3"}}]},
        {"observed_time_unix_nano": (t + 1).to_string(), "severity_number": "SEVERITY_NUMBER_DEBUG",
         "body": {"kvlist_value": {"values": [{"key": "b", "value": {"intValue": 2}},
                                              {"key": "a", "value": {"stringValue": "<x>"}}]}}},
        {"timeUnixNano": (t + 2).to_string(), "body": {"doubleValue": 1.5}, "eventName": "checkout.done"}
    ]}]}]});
    let (status, text) =
        h.post("/otlp/v1/logs", &[("Content-Type", "application/json")], serde_json::to_vec(&body).unwrap()).await;
    assert_eq!((status, text.as_str()), (204, ""));
    let got = entries(&h, r#"{k8s_namespace_name="prod"}"#).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0].0, json!({"k8s_container_name": "api", "k8s_namespace_name": "prod", "service_name": "api"}));
    assert_eq!((got[0].2, got[0].3.as_str()), (t, "json line"));
    assert_eq!(got[0].1["trace_id"], "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(got[0].1["span_id"], "b7ad6b7169203331");
    assert_eq!(got[0].1["http_route"], "/pay");
    assert_eq!(got[0].1["retries"], "3");
    assert_eq!(got[0].1["detected_level"], "error", "from severity_number alone");
    assert_eq!(got[0].1["scope_version"], "3.1");
    assert_eq!((got[1].2, got[1].3.as_str()), (t + 1, r#"{"a":"\u003cx\u003e","b":2}"#), "observed time; Go's JSON");
    assert_eq!(got[1].1["severity_number"], "5");
    assert_eq!(got[1].1["detected_level"], "debug");
    assert_eq!((got[2].2, got[2].3.as_str()), (t + 2, "1.5"));
    assert_eq!(got[2].1["event_name"], "checkout.done");

    // The same shape gzipped; a record without any time gets now.
    let body = json!({"resource_logs": [{"resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "zipped"}}]},
        "scope_logs": [{"log_records": [{"body": {"stringValue": "from gzip"}}]}]}]});
    let before = now_ns();
    let (status, text) = h
        .post(
            "/otlp/v1/logs",
            &[("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
            gzip(&serde_json::to_vec(&body).unwrap()),
        )
        .await;
    assert_eq!((status, text.as_str()), (204, ""));
    let got = entries(&h, r#"{service_name="zipped"}"#).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].3, "from gzip");
    assert!(got[0].2 >= before && got[0].2 <= now_ns());

    // Protobuf, gzipped, with invalid UTF-8 in the body: made valid, never refused.
    use otlp::proto::*;
    use prost::Message;
    let req = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: b"service.name".to_vec(),
                    value: Some(AnyValue { value: Some(Value::StringValue(b"proto".to_vec())) }),
                }],
                dropped_attributes_count: 0,
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![LogRecord {
                    time_unix_nano: t as u64,
                    body: Some(AnyValue { value: Some(Value::StringValue(b"bad \xff\xfe bytes".to_vec())) }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let (status, text) = h
        .post(
            "/otlp/v1/logs",
            &[("Content-Type", "application/x-protobuf"), ("Content-Encoding", "gzip")],
            gzip(&req.encode_to_vec()),
        )
        .await;
    assert_eq!((status, text.as_str()), (204, ""));
    let got = entries(&h, r#"{service_name="proto"}"#).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].3, "bad \u{fffd}\u{fffd} bytes");
}

#[tokio::test]
async fn bad_bodies_are_refused_with_the_reason() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let json = [("Content-Type", "application/json")];
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<u8>, &'a str);
    let cases: Vec<Case> = vec![
        (json.to_vec(), b"{not json".to_vec(), "invalid JSON"),
        (json.to_vec(), br#"{"resourceLogs":{}}"#.to_vec(), "resourceLogs must be an array"),
        (
            json.to_vec(),
            br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz"}]}]}]}"#.to_vec(),
            "traceId must be 32 hex digits",
        ),
        (vec![("Content-Type", "text/plain")], b"hello".to_vec(), "content type: \"text/plain\" is not supported"),
        (vec![], b"hello".to_vec(), "is not supported"),
        (
            vec![("Content-Type", "application/x-protobuf")],
            b"\xff\xff\xff\xff".to_vec(),
            "could not decode the OTLP protobuf",
        ),
        (
            vec![("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
            b"not gzip".to_vec(),
            "could not decompress the gzip body",
        ),
        (
            vec![("Content-Type", "application/json"), ("Content-Encoding", "br")],
            b"{}".to_vec(),
            "Content-Encoding \"br\" not supported",
        ),
    ];
    for (headers, body, want) in cases {
        let (status, text) = h.post("/otlp/v1/logs", &headers, body).await;
        assert_eq!(status, 400, "{headers:?}: {text}");
        assert!(text.contains(want), "{headers:?}: {text:?} should say {want:?}");
    }
    // An empty export is valid OTLP.
    let (status, _) = h.post("/otlp/v1/logs", &json, br#"{"resourceLogs":[]}"#.to_vec()).await;
    assert_eq!(status, 204);
    // A gzip bomb stops at the limit.
    let big = gzip(&vec![b' '; 101 << 20]);
    let (status, text) =
        h.post("/otlp/v1/logs", &[("Content-Type", "application/json"), ("Content-Encoding", "gzip")], big).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("message size too large"), "{text}");
    // Limits apply as to any push: an entry older than a week is named.
    let old = now_ns() - 8 * 86_400_000_000_000;
    let body = json!({"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "old"}}]},
        "scopeLogs": [{"logRecords": [{"timeUnixNano": old.to_string(), "body": {"stringValue": "too old"}}]}]}]});
    let (status, text) = h.post("/otlp/v1/logs", &json, serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("timestamp too old"), "{text}");
}

#[tokio::test]
async fn otlp_config_decides_labels_metadata_and_drops() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("bitacora.yaml");
    std::fs::write(
        &cfg,
        r#"limits:
  otlp_config:
    resource_attributes:
      attributes_config:
        - action: index_label
          attributes: [host.name]
        - action: drop
          regex: "telemetry\\..*"
    scope_attributes:
      - action: drop
        attributes: [noise]
    log_attributes:
      - action: drop
        regex: "secret.*"
"#,
    )
    .unwrap();
    let srv = Server::start(&[("BITACORA_CONFIG", cfg.to_str().unwrap())]);
    let h = Http::new(&srv.addr);
    let s = |v: &str| json!({"stringValue": v});
    let body = json!({"resourceLogs": [{"resource": {"attributes": [
            {"key": "service.name", "value": s("cfg")}, {"key": "host.name", "value": s("h9")},
            {"key": "telemetry.sdk.name", "value": s("x")}, {"key": "os.type", "value": s("linux")}]},
        "scopeLogs": [{"scope": {"attributes": [{"key": "noise", "value": s("1")}, {"key": "kept", "value": s("2")}]},
            "logRecords": [{"body": s("configured"), "attributes": [
                {"key": "secret.token", "value": s("t")}, {"key": "user", "value": s("u")}]}]}]}]});
    let (status, text) =
        h.post("/otlp/v1/logs", &[("Content-Type", "application/json")], serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(status, 204, "{text}");
    let got = entries(&h, r#"{service_name="cfg"}"#).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, json!({"host_name": "h9", "service_name": "cfg"}));
    let m = got[0].1.as_object().unwrap();
    let mut names: Vec<&str> = m.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["detected_level", "kept", "os_type", "user"]);

    // A bad rule stops the server at start with the reason.
    std::fs::write(
        &cfg,
        "limits:\n  otlp_config:\n    log_attributes:\n      - action: index_label\n        attributes: [a]\n",
    )
    .unwrap();
    let err = refused_at_start(&cfg, &tmp.path().join("d"));
    assert!(err.contains("index_label action is only supported for resource_attributes"), "{err}");
}

/// What a server started with `cfg` says as it refuses to start.
fn refused_at_start(cfg: &std::path::Path, data: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_bitacora"))
        .args(["server", "--listen", "127.0.0.1:1", "--data-dir"])
        .arg(data)
        .env("BITACORA_CONFIG", cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Sends the Python SDK's three records as `tenant`.
fn sdk_logs(srv: &Server, tenant: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/otel_logs.py");
    let out = Command::new("python3")
        .args([script, &srv.url("/otlp/v1/logs"), "run8", tenant])
        .output()
        .expect("python3 must be installed");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !err.contains("Failed to export"), "the OpenTelemetry SDK failed: {err}");
}

/// A query's entries as `tenant` (stream labels, metadata, ts, line).
async fn tenant_entries(h: &Http, tenant: &str, query: &str) -> Vec<(Value, Value)> {
    let r =
        h.c.get(format!("{}/loki/api/v1/query_range", h.base))
            .header("X-Loki-Response-Encoding-Flags", "categorize-labels")
            .header("X-Scope-OrgID", tenant)
            .query(&[("query", query), ("since", "1h"), ("limit", "1000")])
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let mut out = Vec::new();
    for s in v["data"]["result"].as_array().unwrap() {
        for e in s["values"].as_array().unwrap() {
            out.push((s["stream"].clone(), e[2]["structuredMetadata"].clone()));
        }
    }
    out
}

#[tokio::test]
async fn each_tenant_has_its_own_otlp_config_and_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("bitacora.yaml");
    std::fs::write(
        &cfg,
        r#"api:
  auth_enabled: true
overrides:
  team-a:
    max_line_size: 40
    otlp_config:
      resource_attributes:
        attributes_config:
          - action: index_label
            attributes: [host.name]
      log_attributes:
        - action: drop
          attributes: [order.id]
"#,
    )
    .unwrap();
    let srv = Server::start(&[("BITACORA_CONFIG", cfg.to_str().unwrap())]);
    let h = Http::new(&srv.addr);
    sdk_logs(&srv, "team-a");
    sdk_logs(&srv, "team-b");

    // team-a: host.name is an index label, order.id dropped; team-b: Loki's defaults.
    let a = tenant_entries(&h, "team-a", r#"{service_name="checkout"}"#).await;
    let b = tenant_entries(&h, "team-b", r#"{service_name="checkout"}"#).await;
    assert_eq!((a.len(), b.len()), (3, 3), "{a:?} {b:?}");
    for (labels, meta) in &a {
        assert_eq!(labels["host_name"], "node-1", "{labels}");
        assert!(meta.get("host_name").is_none() && meta.get("order_id").is_none(), "{meta}");
    }
    for (labels, meta) in &b {
        assert!(labels.get("host_name").is_none(), "{labels}");
        assert_eq!(meta["host_name"], "node-1", "{meta}");
    }
    assert!(b.iter().any(|(_, m)| m["order_id"] == "42"), "{b:?}");

    // team-a's own line limit; team-b keeps the default.
    let long = "x".repeat(60);
    let body = json!({"streams": [{"stream": {"app": "lim"}, "values": [[now_ns().to_string(), long]]}]});
    for (tenant, want) in [("team-a", 400), ("team-b", 204)] {
        let (s, text) = h
            .post(
                "/loki/api/v1/push",
                &[("Content-Type", "application/json"), ("X-Scope-OrgID", tenant)],
                serde_json::to_vec(&body).unwrap(),
            )
            .await;
        assert_eq!(s, want, "{tenant}: {text}");
        if want == 400 {
            assert!(text.contains("max entry size '40' bytes exceeded"), "{text}");
        }
    }

    // Logs Drilldown reads each tenant's limits.
    let limits = |tenant: &'static str| {
        let h = &h;
        async move {
            let r = h.c.get(format!("{}/loki/api/v1/drilldown-limits", h.base)).header("X-Scope-OrgID", tenant);
            r.send().await.unwrap().json::<Value>().await.unwrap()["limits"].clone()
        }
    };
    let (la, lb) = (limits("team-a").await, limits("team-b").await);
    assert_eq!((la["max_line_size"].as_u64(), lb["max_line_size"].as_u64()), (Some(40), Some(256 * 1024)));
    assert_eq!(la["otlp_config"]["resource_attributes"]["attributes_config"][0]["attributes"], json!(["host.name"]));
    assert_eq!(la["query_timeout"], lb["query_timeout"]);

    // A bad override stops the server at start, naming the tenant and the key.
    std::fs::write(&cfg, "overrides:\n  team-a:\n    ingestion_rate: 3\n").unwrap();
    let err = refused_at_start(&cfg, &tmp.path().join("d"));
    assert!(err.contains("overrides.team-a.ingestion_rate: unknown field `ingestion_rate`"), "{err}");
}
