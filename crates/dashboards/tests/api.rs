//! The dashboard routes over a real data directory: save, read back, conflicts, versions,
//! restore, folders, search, limits, and a reopen from disk.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dashboards::Dashboards;
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use tower::ServiceExt;

fn app(dir: &std::path::Path) -> (Arc<Dashboards>, axum::Router) {
    let d = Arc::new(Dashboards::open(dir, &mut Registry::default()).unwrap());
    let user: dashboards::UserOf = Arc::new(|_| dashboards::Caller { name: "ann".into(), can_write: true });
    let r = d.router(user);
    (d, r)
}

async fn call(r: &axum::Router, method: &str, path: &str, body: Option<Vec<u8>>) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let resp = r.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn post(r: &axum::Router, path: &str, v: Value) -> (StatusCode, Value) {
    call(r, "POST", path, Some(serde_json::to_vec(&v).unwrap())).await
}

fn sample() -> Value {
    json!({
        "title": "Shop errors",
        "tags": ["shop", "errors"],
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "app", "type": "query", "query": "label_values(app)"}]},
        "panels": [{"id": 1, "type": "timeseries", "title": "Errors", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
                    "targets": [{"refId": "A", "expr": "sum(count_over_time({app=\"shop\"} |= \"error\" [$__auto]))"}]}],
        "schemaVersion": 39
    })
}

#[tokio::test]
async fn save_read_conflict_versions_restore_and_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    let (_d, r) = app(tmp.path());
    let (s, saved) = post(&r, "/api/dashboards/db", json!({"dashboard": sample(), "message": "first"})).await;
    assert_eq!(s, StatusCode::OK, "{saved}");
    let uid = saved["uid"].as_str().unwrap().to_string();
    assert_eq!(uid.len(), 14);
    assert_eq!(saved["version"], 1);
    assert_eq!(saved["status"], "success");
    assert_eq!(saved["slug"], "shop-errors");
    assert_eq!(saved["url"], format!("/d/{uid}/shop-errors"));

    let (s, got) = call(&r, "GET", &format!("/api/dashboards/uid/{uid}"), None).await;
    assert_eq!(s, StatusCode::OK);
    let mut expected = sample();
    expected["id"] = saved["id"].clone();
    expected["uid"] = json!(uid);
    expected["version"] = json!(1);
    assert_eq!(got["dashboard"], expected, "read back identical plus id, uid, version");
    assert_eq!(got["meta"]["createdBy"], "ann");
    assert_eq!(got["meta"]["canSave"], true);
    assert_eq!(got["meta"]["provisioned"], false);
    assert_eq!(got["meta"]["folderTitle"], "General");

    // Save again with the stored version: version 2.
    let mut v2 = got["dashboard"].clone();
    v2["title"] = json!("Shop errors (edited)");
    let (s, saved2) = post(&r, "/api/dashboards/db", json!({"dashboard": v2, "message": "second"})).await;
    assert_eq!(s, StatusCode::OK, "{saved2}");
    assert_eq!(saved2["version"], 2);
    assert_eq!(saved2["id"], saved["id"]);

    // A stale version is refused as Grafana does.
    let (s, stale) = post(&r, "/api/dashboards/db", json!({"dashboard": got["dashboard"].clone()})).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        stale,
        json!({"message": "The dashboard has been changed by someone else", "status": "version-mismatch"})
    );
    // ... unless overwriting.
    // Another dashboard with the same title in the same folder: name-exists.
    let (s, dup) = post(&r, "/api/dashboards/db", json!({"dashboard": {"title": "shop errors (EDITED)"}})).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);
    assert_eq!(dup["status"], "name-exists");

    let (_, versions) = call(&r, "GET", &format!("/api/dashboards/uid/{uid}/versions"), None).await;
    let vs: Vec<i64> = versions.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(vs, vec![2, 1], "newest first");
    assert_eq!(versions[0]["message"], "second");
    assert_eq!(versions[0]["parentVersion"], 1);
    assert_eq!(versions[1]["createdBy"], "ann");

    let (s, restored) = post(&r, &format!("/api/dashboards/uid/{uid}/restore"), json!({"version": 1})).await;
    assert_eq!(s, StatusCode::OK, "{restored}");
    assert_eq!(restored["version"], 3);
    let (_, v3) = call(&r, "GET", &format!("/api/dashboards/uid/{uid}/versions/3"), None).await;
    let (_, v1) = call(&r, "GET", &format!("/api/dashboards/uid/{uid}/versions/1"), None).await;
    assert_eq!(v3["message"], "Restored from version 1");
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("version");
        v
    };
    assert_eq!(strip(v3["data"].clone()), strip(v1["data"].clone()), "version 3 has version 1's content");

    // Reopen from disk: everything is still there.
    drop(r);
    let (_d2, r2) = app(tmp.path());
    let (s, again) = call(&r2, "GET", &format!("/api/dashboards/uid/{uid}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["dashboard"]["version"], 3);
    assert_eq!(again["dashboard"]["title"], "Shop errors");
    let (_, versions) = call(&r2, "GET", &format!("/api/dashboards/uid/{uid}/versions"), None).await;
    assert_eq!(versions.as_array().unwrap().len(), 3);

    let (s, del) = call(&r2, "DELETE", &format!("/api/dashboards/uid/{uid}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(del["title"], "Shop errors");
    let (s, nf) = call(&r2, "GET", &format!("/api/dashboards/uid/{uid}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(nf["message"], "Dashboard not found");
}

#[tokio::test]
async fn folders_search_tags_and_keeps_twenty_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let (_d, r) = app(tmp.path());
    let (s, f) = post(&r, "/api/folders", json!({"title": "Ops", "uid": "ops"})).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(f["url"], "/dashboards/f/ops/ops");
    let (s, _) = post(&r, "/api/folders", json!({"title": "ops"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = post(
        &r,
        "/api/dashboards/db",
        json!({"dashboard": {"title": "Disk", "uid": "disk", "tags": ["infra"]}, "folderUid": "ops"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) =
        post(&r, "/api/dashboards/db", json!({"dashboard": {"title": "Web", "uid": "web", "tags": ["infra", "web"]}}))
            .await;
    assert_eq!(s, StatusCode::OK);
    // The same title in another folder is fine.
    let (s, _) =
        post(&r, "/api/dashboards/db", json!({"dashboard": {"title": "Web", "uid": "web2"}, "folderUid": "ops"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = post(&r, "/api/dashboards/db", json!({"dashboard": {"title": "X"}, "folderUid": "nope"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("nope"), "{e}");

    let (_, all) = call(&r, "GET", "/api/search", None).await;
    let kinds: Vec<(&str, &str)> =
        all.as_array().unwrap().iter().map(|h| (h["type"].as_str().unwrap(), h["uid"].as_str().unwrap())).collect();
    assert_eq!(kinds, vec![("dash-folder", "ops"), ("dash-db", "disk"), ("dash-db", "web"), ("dash-db", "web2")]);
    let (_, hit) = call(&r, "GET", "/api/search?query=dis&type=dash-db", None).await;
    assert_eq!(hit[0]["uid"], "disk");
    assert_eq!(hit[0]["uri"], "db/disk");
    assert_eq!(hit[0]["folderUid"], "ops");
    assert_eq!(hit[0]["folderTitle"], "Ops");
    assert_eq!(hit[0]["isStarred"], false);
    assert_eq!(hit.as_array().unwrap().len(), 1);
    let (_, web) = call(&r, "GET", "/api/search?tag=infra&tag=web", None).await;
    assert_eq!(web.as_array().unwrap().len(), 1);
    let (_, general) = call(&r, "GET", "/api/search?folderUIDs=general&type=dash-db", None).await;
    assert_eq!(general.as_array().unwrap().iter().map(|h| h["uid"].clone()).collect::<Vec<_>>(), vec![json!("web")]);
    let (_, tags) = call(&r, "GET", "/api/dashboards/tags", None).await;
    assert_eq!(tags, json!([{"term": "infra", "count": 2}, {"term": "web", "count": 1}]));
    let (s, _) = call(&r, "GET", "/api/search?limit=x", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    for i in 2..=25 {
        let (s, out) = post(
            &r,
            "/api/dashboards/db",
            json!({"dashboard": {"title": "Disk", "uid": "disk", "version": i - 1}, "folderUid": "ops"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{out}");
    }
    let (_, versions) = call(&r, "GET", "/api/dashboards/uid/disk/versions", None).await;
    let vs: Vec<i64> = versions.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(vs, (6..=25).rev().collect::<Vec<_>>(), "the last 20 versions");
    let (s, _) = call(&r, "DELETE", "/api/folders/ops", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "not empty");
}

#[tokio::test]
async fn bad_input_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let (_d, r) = app(tmp.path());
    let (s, e) = call(&r, "POST", "/api/dashboards/db", Some(b"{\"dashboard\": {\"title\": \"x\",}}".to_vec())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let m = e["message"].as_str().unwrap();
    assert!(m.starts_with("invalid JSON body") && m.contains("line 1"), "{m}");
    let (s, e) = post(&r, "/api/dashboards/db", json!({"dashboard": {"panels": []}})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["message"], "Dashboard title cannot be empty");
    let (s, e) = post(&r, "/api/dashboards/db", json!({"dashboard": {"title": "a", "uid": "../../etc"}})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(e["message"].as_str().unwrap().contains("uid"), "{e}");
    let big = json!({"dashboard": {"title": "big", "description": "x".repeat(11 << 20)}});
    let (s, e) = post(&r, "/api/dashboards/db", big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(e["message"].as_str().unwrap().contains("10 MiB"), "{e}");
    let (s, _) = call(&r, "GET", "/api/dashboards/uid/x/versions/abc", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

/// As in Grafana, a provisioned dashboard can be edited by a writer (to save a copy or export),
/// never saved in place; a reader can do neither.
#[tokio::test]
async fn provisioned_meta_can_edit_not_save() {
    let tmp = tempfile::tempdir().unwrap();
    let (d, r) = app(tmp.path());
    d.set_builtin(None);
    let (s, got) = call(&r, "GET", "/api/dashboards/uid/bitacora-dokku", None).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    let m = &got["meta"];
    assert_eq!(
        (m["provisioned"].as_bool(), m["canSave"].as_bool(), m["canEdit"].as_bool()),
        (Some(true), Some(false), Some(true))
    );
    let reader: dashboards::UserOf = Arc::new(|_| dashboards::Caller { name: "rita".into(), can_write: false });
    let (_, got) = call(&d.router(reader), "GET", "/api/dashboards/uid/bitacora-dokku", None).await;
    assert_eq!((got["meta"]["canSave"].as_bool(), got["meta"]["canEdit"].as_bool()), (Some(false), Some(false)));
}
