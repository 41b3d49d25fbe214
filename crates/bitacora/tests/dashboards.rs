//! Dashboards and data sources through the real binary: a real Prometheus scraping Bitácora's
//! `/metrics`, provisioned from a Grafana provisioning directory as a data source and queried
//! through the proxy; LogQL through the proxy to the built-in data source; a dashboard imported,
//! saved, refused when stale, versioned and restored; provisioned dashboards added, changed and
//! removed while running, and read-only; everything still there after a restart.

mod common;

use std::time::Duration;

use common::peers::{self, eventually};
use common::{Http, Server, free_port, now_ns};
use serde_json::{Value, json};

async fn send(h: &Http, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = h.c.request(method.parse().unwrap(), format!("{}{path}", h.base));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn write(p: &std::path::Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// `bitacora hash-password` of `secret`.
fn hash(secret: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bitacora"))
        .arg("hash-password")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{secret}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn as_token(token: &str, method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method.parse().unwrap(), url);
    if !token.is_empty() {
        r = r.bearer_auth(token);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// With access rules on: dashboard writes need admin, reading and proxied queries need read,
/// and the built-in data source answers with the caller's own credentials and tenant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_rules_apply_through_the_proxy() {
    const PUSH: &str = "bt_push_6f1c0a9e2b7d4c83a5e1f0d29b8c7a61";
    const READ: &str = "bt_read_0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a";
    const ADMIN: &str = "bt_admin_a1b2c3d4e5f60718293a4b5c6d7e8f90";
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("bitacora.yml");
    write(
        &cfg,
        &format!(
            "auth:\n  tokens:\n    - {{name: agent, token_hash: '{}', scopes: [push], tenant: team-a}}\n    - {{name: viewer, token_hash: '{}', scopes: [read], tenant: team-a}}\n    - {{name: ops, token_hash: '{}', scopes: [admin]}}\n",
            hash(PUSH),
            hash(READ),
            hash(ADMIN)
        ),
    );
    let server =
        Server::launch("server", &tmp.path().join("data"), free_port(), &[("BITACORA_CONFIG", cfg.to_str().unwrap())]);
    let u = |p: &str| server.url(p);
    let now = now_ns();
    let push = json!({"streams": [{"stream": {"app": "shop"}, "values": [[now.to_string(), "team a's line"]]}]});
    let (s, _) = as_token(PUSH, "POST", &u("/loki/api/v1/push"), Some(push)).await;
    assert_eq!(s, 204);

    let dash = json!({"dashboard": {"title": "Mine"}});
    let (s, e) = as_token(READ, "POST", &u("/api/dashboards/db"), Some(dash.clone())).await;
    assert_eq!(s, 403, "{e}");
    let (s, _) = as_token("", "GET", &u("/api/search"), None).await;
    assert_eq!(s, 401);
    let (s, saved) = as_token(ADMIN, "POST", &u("/api/dashboards/db"), Some(dash)).await;
    assert_eq!(s, 200, "{saved}");
    let (s, got) =
        as_token(READ, "GET", &u(&format!("/api/dashboards/uid/{}", saved["uid"].as_str().unwrap())), None).await;
    assert_eq!((s, got["meta"]["createdBy"].as_str()), (200, Some("ops")));
    let (s, _) =
        as_token(READ, "DELETE", &u(&format!("/api/dashboards/uid/{}", saved["uid"].as_str().unwrap())), None).await;
    assert_eq!(s, 403);
    assert_eq!(got["meta"]["canSave"], false, "a viewer may not save");
    let (_, got) =
        as_token(ADMIN, "GET", &u(&format!("/api/dashboards/uid/{}", saved["uid"].as_str().unwrap())), None).await;
    assert_eq!(got["meta"]["canSave"], true);

    // Sizes: 5 MiB is fine, over 10 MiB is 413; broken JSON is a 400 naming the problem.
    let big = |n: usize| json!({"dashboard": {"title": format!("Big {n}"), "description": "x".repeat(n << 20)}});
    let (s, _) = as_token(ADMIN, "POST", &u("/api/dashboards/db"), Some(big(5))).await;
    assert_eq!(s, 200);
    let (s, e) = as_token(ADMIN, "POST", &u("/api/dashboards/db"), Some(big(11))).await;
    assert_eq!(s, 413, "{e}");
    let resp = reqwest::Client::new()
        .post(u("/api/dashboards/db"))
        .bearer_auth(ADMIN)
        .body("{\"dashboard\": {\"title\": }")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let e: Value = resp.json().await.unwrap();
    assert!(e["message"].as_str().unwrap().contains("line 1 column"), "{e}");

    let q = format!(
        "/api/datasources/proxy/uid/bitacora/loki/api/v1/query_range?query=%7Bapp%3D%22shop%22%7D&start={}&end={}",
        now - 1_000_000_000,
        now + 1_000_000_000
    );
    let (s, v) = as_token(READ, "GET", &u(&q), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["result"][0]["values"][0][1], "team a's line", "the viewer's pinned tenant");
    let (s, v) = as_token(ADMIN, "GET", &u(&q), None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 0, "another tenant sees nothing");
    let (s, _) = as_token(PUSH, "GET", &u(&q), None).await;
    assert_eq!(s, 403, "a push-only token may not query, through the proxy either");
    let (s, _) = as_token("", "GET", &u(&q), None).await;
    assert_eq!(s, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_loki_proxy_dashboards_provisioning_restart() {
    if !peers::have("prometheus", "dashboards over a real Prometheus") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let prov = tmp.path().join("provisioning");
    let port = free_port();
    let prom = peers::prometheus_scraping(&format!("127.0.0.1:{port}"));

    // Grafana's provisioning directory, as the seed stack has it: the URL from the environment.
    write(
        &prov.join("datasources/datasources.yml"),
        "apiVersion: 1\ndatasources:\n  - name: Prometheus\n    type: prometheus\n    uid: prom\n    access: proxy\n    url: ${TEST_PROM_URL}\n    basicAuth: true\n    basicAuthUser: grafana\n    jsonData:\n      timeout: 20\n      httpHeaderName1: X-Test\n    secureJsonData:\n      basicAuthPassword: very-secret-pw\n      httpHeaderValue1: very-secret-header\n  - name: Tempo\n    type: tempo\n    url: http://localhost:3200\n",
    );
    write(
        &prov.join("dashboards/dashboards.yml"),
        "apiVersion: 1\nproviders:\n  - name: files\n    folder: Provisioned\n    type: file\n    updateIntervalSeconds: 1\n    options:\n      path: /etc/grafana/provisioning/dashboards/files\n",
    );
    let files = prov.join("dashboards/files");
    write(&files.join("a.json"), r#"{"uid": "prov-a", "title": "Provisioned A", "panels": []}"#);
    let cfg = tmp.path().join("bitacora.yml");
    write(&cfg, &format!("dashboards:\n  provisioning_dir: {}\n", prov.display()));
    let env = [("BITACORA_CONFIG", cfg.to_str().unwrap()), ("TEST_PROM_URL", prom.url.as_str())];
    let mut server = Server::launch("server", &data, port, &env);
    let h = Http::new(&server.addr);

    // Data sources: the built-in one first and default, Prometheus provisioned, secrets masked,
    // the unsupported type left out.
    let (s, list) = send(&h, "GET", "/api/datasources", None).await;
    assert_eq!(s, 200);
    let text = list.to_string();
    assert!(!text.contains("very-secret"), "secrets must never be shown: {text}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{text}");
    assert_eq!(
        (list[0]["uid"].as_str(), list[0]["type"].as_str(), list[0]["isDefault"].as_bool()),
        (Some("bitacora"), Some("loki"), Some(true))
    );
    assert_eq!(list[1]["url"], prom.url.as_str());
    assert_eq!(list[1]["secureJsonFields"], json!({"basicAuthPassword": true, "httpHeaderValue1": true}));
    assert_eq!(list[1]["access"], "proxy");
    assert_eq!(list[1]["readOnly"], true);
    let (s, one) = send(&h, "GET", "/api/datasources/name/Prometheus", None).await;
    assert_eq!((s, one["uid"].as_str()), (200, Some("prom")));
    let (s, _) = send(&h, "GET", "/api/datasources/uid/nope", None).await;
    assert_eq!(s, 404);

    // PromQL through the proxy: Prometheus has scraped Bitácora's own series.
    let series = eventually(Duration::from_secs(30), "Bitácora's series in Prometheus", || async {
        let (s, v) = h.get("/api/datasources/proxy/uid/prom/api/v1/query", &[("query", "bitacora_streams")]).await;
        let v: Value = serde_json::from_str(&v).ok()?;
        (s == 200 && v["data"]["result"].as_array().is_some_and(|r| !r.is_empty())).then_some(v)
    })
    .await;
    assert_eq!(series["status"], "success");
    assert_eq!(series["data"]["result"][0]["metric"]["job"], "bitacora");
    assert_eq!(series["data"]["result"][0]["metric"]["instance"], format!("127.0.0.1:{port}"));
    // By numeric id too, and as a POSTed form.
    let pid = list[1]["id"].as_i64().unwrap();
    let (s, body) = h
        .post(
            &format!("/api/datasources/proxy/{pid}/api/v1/query"),
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"query=up%7Bjob%3D%22bitacora%22%7D".to_vec(),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["result"][0]["value"][1], "1");

    // Only query endpoints pass.
    let (s, e) = send(&h, "POST", "/api/datasources/proxy/uid/prom/api/v1/admin/tsdb/snapshot", None).await;
    assert_eq!(s, 403);
    assert!(e["message"].as_str().unwrap().contains("/api/v1/admin/tsdb/snapshot"), "{e}");
    let (s, e) =
        send(&h, "POST", "/api/datasources/proxy/uid/bitacora/loki/api/v1/push", Some(json!({"streams": []}))).await;
    assert_eq!(s, 403, "{e}");

    // LogQL through the proxy to the built-in data source.
    let now = now_ns();
    let (s, _) = h
        .push_json(&json!({"streams": [{"stream": {"app": "shop", "stream": "stderr"}, "values": [
            [now.to_string(), "GET /cart 500 error: boom"], [(now + 1).to_string(), "GET /cart 200 ok"]]}]}))
        .await;
    assert_eq!(s, 204);
    let (s, body) = h
        .get(
            "/api/datasources/proxy/uid/bitacora/loki/api/v1/query_range",
            &[
                ("query", "{app=\"shop\"} |= \"error\""),
                ("start", &(now - 1_000_000_000).to_string()),
                ("end", &(now + 1_000_000_000).to_string()),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data"]["result"][0]["values"][0][1], "GET /cart 500 error: boom");
    assert_eq!(v["data"]["result"].as_array().unwrap().len(), 1);

    // Built-in dashboards: the overview is there because a Prometheus is.
    let (_, ov) = send(&h, "GET", "/api/dashboards/uid/bitacora-overview", None).await;
    assert_eq!(ov["dashboard"]["panels"][0]["datasource"]["uid"], "prom");
    assert_eq!(ov["meta"]["provisioned"], true);
    assert_eq!(ov["meta"]["folderTitle"], "Bitácora");
    let (_, dokku) = send(&h, "GET", "/api/dashboards/uid/bitacora-dokku", None).await;
    assert_eq!(dokku["dashboard"]["title"], "Dokku host");
    // Every Prometheus expression of the overview runs against the real Prometheus.
    for p in ov["dashboard"]["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap().replace("$__rate_interval", "1m").replace("$job", ".+");
            let (s, body) = h.get("/api/datasources/proxy/uid/prom/api/v1/query", &[("query", &expr)]).await;
            assert_eq!(s, 200, "{expr}: {body}");
        }
    }

    // Import, read back, save again, a stale save refused, versions, restore.
    let model = json!({
        "title": "Shop", "tags": ["shop"], "time": {"from": "now-1h", "to": "now"},
        "templating": {"list": [{"name": "app", "type": "query", "datasource": {"type": "loki", "uid": "bitacora"}, "query": "label_values(app)"}]},
        "panels": [
            {"id": 1, "type": "timeseries", "title": "Errors", "datasource": {"type": "loki", "uid": "bitacora"}, "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
             "targets": [{"refId": "A", "expr": "sum(count_over_time({app=\"$app\"} |= \"error\" [$__auto]))"}]},
            {"id": 2, "type": "stat", "title": "Streams", "datasource": {"type": "prometheus", "uid": "prom"}, "gridPos": {"h": 8, "w": 12, "x": 12, "y": 0},
             "targets": [{"refId": "A", "expr": "bitacora_streams"}]},
            {"id": 3, "type": "logs", "title": "Lines", "datasource": {"type": "loki", "uid": "bitacora"}, "gridPos": {"h": 8, "w": 24, "x": 0, "y": 8},
             "targets": [{"refId": "A", "expr": "{app=\"$app\"}"}]}
        ]
    });
    let (s, saved) =
        send(&h, "POST", "/api/dashboards/db", Some(json!({"dashboard": model, "message": "import"}))).await;
    assert_eq!(s, 200, "{saved}");
    let uid = saved["uid"].as_str().unwrap().to_string();
    assert_eq!((saved["version"].as_i64(), saved["status"].as_str()), (Some(1), Some("success")));
    let (_, got) = send(&h, "GET", &format!("/api/dashboards/uid/{uid}"), None).await;
    let mut expected = model.clone();
    expected["id"] = saved["id"].clone();
    expected["uid"] = json!(uid);
    expected["version"] = json!(1);
    assert_eq!(got["dashboard"], expected);
    let mut edited = got["dashboard"].clone();
    edited["panels"][0]["title"] = json!("Errors per app");
    let (s, v2) = send(&h, "POST", "/api/dashboards/db", Some(json!({"dashboard": edited, "message": "rename"}))).await;
    assert_eq!((s, v2["version"].as_i64()), (200, Some(2)), "{v2}");
    let (s, stale) = send(&h, "POST", "/api/dashboards/db", Some(json!({"dashboard": got["dashboard"]}))).await;
    assert_eq!(s, 412);
    assert_eq!(stale["status"], "version-mismatch");
    let (_, versions) = send(&h, "GET", &format!("/api/dashboards/uid/{uid}/versions"), None).await;
    let vs: Vec<(i64, &str)> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_i64().unwrap(), v["message"].as_str().unwrap()))
        .collect();
    assert_eq!(vs, vec![(2, "rename"), (1, "import")]);
    let (s, v3) = send(&h, "POST", &format!("/api/dashboards/uid/{uid}/restore"), Some(json!({"version": 1}))).await;
    assert_eq!((s, v3["version"].as_i64()), (200, Some(3)), "{v3}");
    let (_, cur) = send(&h, "GET", &format!("/api/dashboards/uid/{uid}"), None).await;
    let mut want = expected.clone();
    want["version"] = json!(3);
    assert_eq!(cur["dashboard"], want, "version 3 is version 1's content");

    // Provisioned: present, read-only; files added, changed and removed are picked up.
    let (_, a) = send(&h, "GET", "/api/dashboards/uid/prov-a", None).await;
    assert_eq!((a["meta"]["provisioned"].as_bool(), a["meta"]["canSave"].as_bool()), (Some(true), Some(false)));
    assert_eq!(a["meta"]["folderTitle"], "Provisioned");
    assert!(a["meta"]["provisionedExternalId"].as_str().unwrap().ends_with("a.json"));
    let (s, e) =
        send(&h, "POST", "/api/dashboards/db", Some(json!({"dashboard": a["dashboard"], "overwrite": true}))).await;
    assert_eq!((s, e["message"].as_str()), (400, Some("Cannot save provisioned dashboard")));
    write(&files.join("b.json"), r#"{"uid": "prov-b", "title": "Provisioned B"}"#);
    write(&files.join("a.json"), r#"{"uid": "prov-a", "title": "Provisioned A, changed", "panels": []}"#);
    eventually(Duration::from_secs(5), "b.json and the change of a.json picked up", || async {
        let (sb, _) = send(&h, "GET", "/api/dashboards/uid/prov-b", None).await;
        let (_, a) = send(&h, "GET", "/api/dashboards/uid/prov-a", None).await;
        (sb == 200 && a["dashboard"]["title"] == "Provisioned A, changed").then_some(())
    })
    .await;
    std::fs::remove_file(files.join("b.json")).unwrap();
    eventually(Duration::from_secs(5), "b.json's removal picked up", || async {
        let (sb, _) = send(&h, "GET", "/api/dashboards/uid/prov-b", None).await;
        (sb == 404).then_some(())
    })
    .await;
    let (_, hits) = send(&h, "GET", "/api/search?type=dash-db", None).await;
    let titles: Vec<&str> = hits.as_array().unwrap().iter().map(|x| x["title"].as_str().unwrap()).collect();
    assert_eq!(titles, vec!["Dokku host", "Overview of Bitácora", "Provisioned A, changed", "Shop"]);

    // A restart keeps everything.
    assert!(server.terminate().success());
    drop(server);
    let server = Server::launch("server", &data, port, &env);
    let h = Http::new(&server.addr);
    let (_, after) = send(&h, "GET", &format!("/api/dashboards/uid/{uid}"), None).await;
    assert_eq!(after["dashboard"], want);
    let (_, versions) = send(&h, "GET", &format!("/api/dashboards/uid/{uid}/versions"), None).await;
    assert_eq!(versions.as_array().unwrap().len(), 3);
    let (s, a) = send(&h, "GET", "/api/dashboards/uid/prov-a", None).await;
    assert_eq!((s, a["dashboard"]["title"].as_str()), (200, Some("Provisioned A, changed")));
    let (_, list) = send(&h, "GET", "/api/datasources", None).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}
