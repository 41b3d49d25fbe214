//! Logs Drilldown against a real server: drilldown-limits, detected fields and their values
//! (types, cardinality, parsers, JSON paths, structured metadata), Drain patterns counted per
//! step, and every call Grafana's Logs Drilldown app makes when a service is opened.

mod common;

use common::{Http, Server, now_ns};
use serde_json::{Value, json};

const SEC: i64 = 1_000_000_000;

/// Pushes one stream; `sm` gives each line's structured metadata.
async fn push(h: &Http, labels: Value, lines: &[(i64, String, Value)]) {
    let values: Vec<Value> = lines
        .iter()
        .map(|(ts, l, sm)| if sm.is_null() { json!([ts.to_string(), l]) } else { json!([ts.to_string(), l, sm]) })
        .collect();
    let (s, b) = h.push_json(&json!({"streams": [{"stream": labels, "values": values}]})).await;
    assert_eq!(s, 204, "{b}");
}

fn field<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no fields: {v}"))
        .iter()
        .find(|f| f["label"] == name)
        .unwrap_or_else(|| panic!("no field {name}: {v}"))
}

#[tokio::test]
async fn detected_fields_and_values() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t0 = now_ns() - 600 * SEC;
    // logfmt, with a trace id as structured metadata.
    let shop: Vec<(i64, String, Value)> = (0..30)
        .map(|i| {
            let level = if i % 3 == 0 { "warn" } else { "info" };
            let size = if i % 2 == 0 { "10MB" } else { "1500B" };
            let line = format!("level={level} msg=\"order placed\" order_id={i} dur={i}ms size={size} ok=true");
            (t0 + i * SEC, line, json!({"trace_id": format!("t{}", i % 7)}))
        })
        .collect();
    push(&h, json!({"app": "shop"}), &shop).await;
    // JSON with a nested object.
    let web: Vec<(i64, String, Value)> = (0..20)
        .map(|i| {
            let line = json!({"level": "error", "msg": "payment failed", "user": {"id": i % 4, "name": format!("u{}", i % 5)}, "latency": 0.25})
                .to_string();
            (t0 + i * SEC, line, Value::Null)
        })
        .collect();
    push(&h, json!({"app": "web"}), &web).await;
    // Plain text: no parser finds fields.
    let plain: Vec<(i64, String, Value)> =
        (0..5).map(|i| (t0 + i * SEC, format!("connected to db {i} quickly"), Value::Null)).collect();
    push(&h, json!({"app": "plain"}), &plain).await;
    let (start, end) = ((t0 - SEC).to_string(), (t0 + 60 * SEC).to_string());
    let q = |query: &'static str| [("query", query), ("start", start.as_str()), ("end", end.as_str())];

    let v = h.get_json("/loki/api/v1/detected_fields", &q(r#"{app="shop"}"#)).await;
    assert_eq!(v["limit"], 1000);
    assert_eq!(
        field(&v, "order_id"),
        &json!({"label": "order_id", "type": "int", "cardinality": 30, "parsers": ["logfmt"]})
    );
    assert_eq!(
        field(&v, "level"),
        &json!({"label": "level", "type": "string", "cardinality": 2, "parsers": ["logfmt"]})
    );
    assert_eq!(field(&v, "dur")["type"], "duration");
    assert_eq!(field(&v, "size")["type"], "bytes");
    assert_eq!(field(&v, "size")["cardinality"], 2);
    assert_eq!(field(&v, "ok")["type"], "boolean");
    assert_eq!(field(&v, "msg")["cardinality"], 1);
    // Structured metadata: parsers null (Grafana tells metadata apart by it).
    assert_eq!(
        field(&v, "trace_id"),
        &json!({"label": "trace_id", "type": "string", "cardinality": 7, "parsers": null})
    );
    assert_eq!(
        field(&v, "detected_level"),
        &json!({"label": "detected_level", "type": "string", "cardinality": 2, "parsers": null})
    );
    assert_eq!(v["fields"].as_array().unwrap().len(), 8, "{v}");

    let v = h.get_json("/loki/api/v1/detected_fields", &q(r#"{app="web"}"#)).await;
    assert_eq!(
        field(&v, "user_id"),
        &json!({"label": "user_id", "type": "int", "cardinality": 4, "parsers": ["json"], "jsonPath": ["user", "id"]})
    );
    assert_eq!(field(&v, "user_name")["jsonPath"], json!(["user", "name"]));
    assert_eq!(field(&v, "user_name")["cardinality"], 5);
    assert_eq!(field(&v, "latency")["type"], "float");
    assert_eq!(field(&v, "level")["jsonPath"], json!(["level"]));

    // line_limit samples the newest lines only; limit caps the fields.
    let mut p = q(r#"{app="shop"}"#).to_vec();
    p.push(("line_limit", "5"));
    let v = h.get_json("/loki/api/v1/detected_fields", &p).await;
    assert_eq!(field(&v, "order_id")["cardinality"], 5);
    p.push(("limit", "2"));
    let v = h.get_json("/loki/api/v1/detected_fields", &p).await;
    assert_eq!(v["fields"].as_array().unwrap().len(), 2);
    assert_eq!(v["limit"], 2);

    // Plain lines have only their detected_level.
    let v = h.get_json("/loki/api/v1/detected_fields", &q(r#"{app="plain"}"#)).await;
    assert_eq!(v["fields"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(field(&v, "detected_level")["parsers"], Value::Null);
    // Nothing selected: an empty object.
    let v = h.get_json("/loki/api/v1/detected_fields", &q(r#"{app="none"}"#)).await;
    assert_eq!(v, json!({}));

    // Values: parsed and metadata; byte sizes written compactly.
    let v = h.get_json("/loki/api/v1/detected_field/size/values", &q(r#"{app="shop"}"#)).await;
    assert_eq!(v, json!({"values": ["1.5kB", "10MB"], "limit": 1000}));
    let v = h.get_json("/loki/api/v1/detected_field/trace_id/values", &q(r#"{app="shop"}"#)).await;
    assert_eq!(v["values"], json!(["t0", "t1", "t2", "t3", "t4", "t5", "t6"]));
    let v = h.get_json("/loki/api/v1/detected_field/level/values", &q(r#"{app="shop"} | logfmt | level="warn""#)).await;
    assert_eq!(v["values"], json!(["warn"]));
    // POST with a form body answers the same.
    let body = format!("query=%7Bapp%3D%22web%22%7D&start={start}&end={end}");
    let (s, b) = h
        .post(
            "/loki/api/v1/detected_field/user_id/values",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            body.into(),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(serde_json::from_str::<Value>(&b).unwrap()["values"], json!(["0", "1", "2", "3"]));

    // Bad input: clear 400s.
    for (params, want) in [
        (vec![("start", start.as_str())], "query"),
        (vec![("query", r#"sum(count_over_time({app="shop"}[1m]))"#)], "log query"),
        (vec![("query", r#"{app="shop"}"#), ("line_limit", "0")], "positive"),
        (vec![("query", r#"{app="shop""#)], "parse error"),
    ] {
        let (s, b) = h.get("/loki/api/v1/detected_fields", &params).await;
        assert_eq!(s, 400, "{params:?}: {b}");
        assert!(b.contains(want), "{params:?}: {b}");
    }
}

#[tokio::test]
async fn patterns_counted_per_step() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t0 = (now_ns() / (60 * SEC) - 10) * 60 * SEC; // a whole minute, 10 minutes ago
    let lines: Vec<(i64, String, Value)> = (0..60)
        .map(|i| {
            let line = if i % 3 == 0 {
                format!("level=error msg=\"payment failed\" user={i} code=500")
            } else {
                format!("level=info msg=\"request served\" path=/api/{} dur={i}ms", i % 5)
            };
            (t0 + i * SEC, line, Value::Null)
        })
        .collect();
    push(&h, json!({"app": "pat"}), &lines).await;
    let plain: Vec<(i64, String, Value)> =
        (0..12).map(|i| (t0 + i * SEC, format!("connected to db-{i} in {} ms", 40 + i), Value::Null)).collect();
    push(&h, json!({"app": "plainpat"}), &plain).await;
    let js: Vec<(i64, String, Value)> = (0..8)
        .map(|i| {
            (t0 + i * SEC, json!({"level": "warn", "msg": format!("cache miss for key {i}")}).to_string(), Value::Null)
        })
        .collect();
    push(&h, json!({"app": "jsonpat"}), &js).await;
    let (start, end) = (t0.to_string(), (t0 + 60 * SEC).to_string());
    let get = |query: &'static str, step: &'static str| {
        let (h, start, end) = (&h, start.clone(), end.clone());
        async move {
            h.get_json("/loki/api/v1/patterns", &[("query", query), ("start", &start), ("end", &end), ("step", step)])
                .await
        }
    };
    let s0 = t0 / SEC;
    let v = get(r#"{app="pat"}"#, "30s").await;
    assert_eq!(v["status"], "success");
    assert_eq!(
        v["data"],
        json!([
            {"pattern": "level=info msg=\"request served\" path=<_> dur=<_>", "level": "info", "samples": [[s0, 20], [s0 + 30, 20]]},
            {"pattern": "level=error msg=\"payment failed\" user=<_> code=500", "level": "error", "samples": [[s0, 10], [s0 + 30, 10]]}
        ])
    );
    // One bucket for the whole minute; a step under 10 s counts per 10 s as Loki does.
    let v = get(r#"{app="pat"}"#, "60s").await;
    assert_eq!(v["data"][0]["samples"], json!([[s0, 40]]));
    let v = get(r#"{app="pat"}"#, "1s").await;
    assert_eq!(v["data"][1]["samples"].as_array().unwrap().len(), 6);
    // Plain lines: punctuation tokens; JSON lines: the message field between placeholders.
    let v = get(r#"{app="plainpat"}"#, "60s").await;
    assert_eq!(
        v["data"],
        json!([{"pattern": "connected to <_> in <_> ms", "level": "unknown", "samples": [[s0, 12]]}])
    );
    let v = get(r#"{app="jsonpat"}"#, "60s").await;
    assert_eq!(v["data"], json!([{"pattern": "<_>cache miss for key <_>", "level": "warn", "samples": [[s0, 8]]}]));
    // Several streams: same pattern and level summed; the wire escapes < and > as Go does.
    let (s, raw) = h
        .get(
            "/loki/api/v1/patterns",
            &[("query", r#"{app=~"pat|plainpat"}"#), ("start", &start), ("end", &end), ("step", "60s")],
        )
        .await;
    assert_eq!(s, 200);
    assert!(raw.contains(r#""pattern":"connected to \u003c_\u003e in \u003c_\u003e ms""#), "{raw}");
    assert_eq!(serde_json::from_str::<Value>(&raw).unwrap()["data"].as_array().unwrap().len(), 3);
    // Nothing selected.
    assert_eq!(get(r#"{app="none"}"#, "60s").await, json!({"status": "success", "data": []}));
    // Bad input.
    for (q, want) in [(r#"{app="pat"} |= "x""#, "only label matchers"), (r#"{app="pat""#, "parse error")] {
        let (s, b) = h.get("/loki/api/v1/patterns", &[("query", q), ("start", &start), ("end", &end)]).await;
        assert_eq!(s, 400, "{b}");
        assert!(b.contains(want), "{b}");
    }
    let (s, b) = h.get("/loki/api/v1/patterns", &[("query", r#"{app="pat"}"#), ("step", "-5s")]).await;
    assert_eq!(s, 400, "{b}");
}

/// The calls of Grafana's Logs Drilldown app (loki-compat.md §4.6) when a service is opened,
/// with its RFC3339 times: each answers 200 in the shape the app reads.
#[tokio::test]
async fn logs_drilldown_opening_a_service() {
    let srv = Server::start(&[]);
    let h = Http::new(&srv.addr);
    let t0 = now_ns() - 300 * SEC;
    let lines: Vec<(i64, String, Value)> = (0..40)
        .map(|i| {
            let level = ["info", "error"][(i % 2) as usize];
            (t0 + i * SEC, format!("level={level} msg=\"handled request\" status={}", 200 + i % 3), Value::Null)
        })
        .collect();
    push(&h, json!({"app": "checkout", "env": "prod"}), &lines).await;
    let rfc =
        |ns: i64| jiff::Timestamp::from_nanosecond(ns as i128).unwrap().strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let (start, end) = (rfc(t0 - 60 * SEC), rfc(t0 + 120 * SEC));
    let t = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, String)> = vec![("start", start.clone()), ("end", end.clone())];
        v.extend(extra.iter().map(|(k, x)| (*k, x.to_string())));
        v
    };
    let call = |path: &'static str, params: Vec<(&'static str, String)>| {
        let h = &h;
        async move {
            let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            h.get_json(path, &p).await
        }
    };

    let v = call("/loki/api/v1/drilldown-limits", vec![]).await;
    assert_eq!(v["pattern_ingester_enabled"], true);
    assert!(v["version"].as_str().unwrap().starts_with('3'));
    assert_eq!(v["limits"]["max_entries_limit_per_query"], 5000);
    assert_eq!(v["limits"]["max_query_series"], 500);
    assert_eq!(v["limits"]["volume_enabled"], true);
    assert_eq!(v["limits"]["discover_log_levels"], true);
    assert!(v["limits"]["discover_service_name"].as_array().unwrap().iter().any(|s| s == "app"));

    let v = call("/loki/api/v1/index/volume", t(&[("query", r#"{service_name=~".+"}"#), ("limit", "5000")])).await;
    let r = &v["data"]["result"][0];
    assert_eq!(r["metric"]["service_name"], "checkout", "{v}");
    assert!(r["value"][1].as_str().unwrap().parse::<u64>().unwrap() > 0);
    let v = call("/loki/api/v1/detected_labels", t(&[("query", "")])).await;
    assert!(v["detectedLabels"].as_array().unwrap().iter().any(|l| l["label"] == "service_name"), "{v}");
    let v = call("/loki/api/v1/labels", t(&[])).await;
    assert!(v["data"].as_array().unwrap().iter().any(|l| l == "env"));

    let sel = r#"{service_name="checkout"}"#;
    let v = call("/loki/api/v1/detected_labels", t(&[("query", sel)])).await;
    assert!(v["detectedLabels"].as_array().unwrap().iter().any(|l| l["label"] == "env"), "{v}");
    let v = call(
        "/loki/api/v1/detected_fields",
        t(&[("query", r#"{service_name="checkout"} | json | logfmt | drop __error__, __error_details__"#)]),
    )
    .await;
    let status = field(&v, "status");
    assert_eq!(status["type"], "int");
    assert_eq!(status["cardinality"], 3);
    assert_eq!(status["parsers"], json!(["logfmt"]));
    let v = call("/loki/api/v1/detected_field/status/values", t(&[("query", sel)])).await;
    assert_eq!(v["values"], json!(["200", "201", "202"]));
    let v = call("/loki/api/v1/patterns", t(&[("query", sel), ("step", "30s")])).await;
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{v}");
    let total: u64 = data.iter().flat_map(|p| p["samples"].as_array().unwrap()).map(|s| s[1].as_u64().unwrap()).sum();
    assert_eq!(total, 40);
    for q in [
        r#"sum(count_over_time({service_name="checkout"} | json | logfmt | drop __error__, __error_details__ [1m])) by (detected_level)"#,
        r#"sum by (level, detected_level) (count_over_time({service_name="checkout"} | logfmt [1m]))"#,
    ] {
        let v = call("/loki/api/v1/query_range", t(&[("query", q), ("step", "60s")])).await;
        assert_eq!(v["data"]["resultType"], "matrix", "{q}: {v}");
        assert!(!v["data"]["result"].as_array().unwrap().is_empty(), "{q}: {v}");
    }
    let v = call(
        "/loki/api/v1/query_range",
        t(&[
            ("query", r#"{service_name="checkout"} | detected_level="error" | logfmt | line_format "{{.status}}""#),
            ("limit", "100"),
        ]),
    )
    .await;
    let n: usize = v["data"]["result"].as_array().unwrap().iter().map(|s| s["values"].as_array().unwrap().len()).sum();
    assert_eq!(n, 20, "{v}");
}
