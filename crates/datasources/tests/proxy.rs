//! The proxy against a real upstream on a loopback port that records what it gets: credentials
//! added server-side, query string and body carried, status and content type kept, only query
//! endpoints, time-outs and unreachable upstreams answered clearly; and provisioning files.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use datasources::DataSources;
use prometheus_client::registry::Registry;
use serde_json::Value;
use tower::ServiceExt;

type Seen = Arc<Mutex<Vec<(String, String, HeaderMap, String)>>>;

/// An upstream answering 201 `text/x-test` with "hello", and slowly on `/api/v1/query_range`.
async fn upstream() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s2 = seen.clone();
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let seen = s2.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = String::from_utf8(axum::body::to_bytes(body, 1 << 20).await.unwrap().to_vec()).unwrap();
            let path = parts.uri.path().to_string();
            seen.lock().unwrap().push((path.clone(), parts.uri.query().unwrap_or("").to_string(), parts.headers, body));
            if path.ends_with("query_range") {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            (StatusCode::CREATED, [("content-type", "text/x-test")], "hello")
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/prefix"), seen)
}

async fn call(r: &axum::Router, method: &str, path: &str, body: &str) -> (StatusCode, String, String) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", "Bearer the-callers-own")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = r.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, ct, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn forwards_queries_with_server_side_credentials() {
    let (url, seen) = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: set before anything reads the environment in this test binary.
    unsafe { std::env::set_var("DS_TEST_URL", &url) };
    std::fs::create_dir_all(dir.path().join("datasources")).unwrap();
    std::fs::write(
        dir.path().join("datasources/a.yaml"),
        "apiVersion: 1\ndatasources:\n  - name: Remote Loki\n    type: loki\n    uid: rl\n    url: $DS_TEST_URL\n    basicAuth: true\n    basicAuthUser: bob\n    jsonData: {timeout: 1, httpHeaderName1: X-Scope-OrgID}\n    secureJsonData: {basicAuthPassword: pw, httpHeaderValue1: team-a}\n  - name: Down\n    type: prometheus\n    url: http://127.0.0.1:9\n  - name: NoUrl\n    type: prometheus\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("datasources/b.yml"), "apiVersion: 2\ndatasources: []\n").unwrap();
    let ds = DataSources::new(Some(dir.path().to_path_buf()), &mut Registry::default());
    let uids: Vec<String> = ds.all().iter().map(|d| d.uid.clone()).collect();
    assert_eq!(uids, vec!["bitacora", "rl", "ds-down"]);
    assert!(ds.by_uid("rl").unwrap().to_json().to_string().find("pw").is_none());
    let r = ds.router();

    let (s, ct, body) =
        call(&r, "POST", "/api/datasources/proxy/uid/rl/loki/api/v1/query?query=%7Ba%3D%22b%22%7D&limit=5", "x=1")
            .await;
    assert_eq!((s, ct.as_str(), body.as_str()), (StatusCode::CREATED, "text/x-test", "hello"));
    {
        let got = seen.lock().unwrap();
        let (path, query, headers, body) = &got[0];
        assert_eq!(path, "/prefix/loki/api/v1/query");
        assert_eq!(query, "query=%7Ba%3D%22b%22%7D&limit=5");
        assert_eq!(body, "x=1");
        // base64("bob:pw"): the server's credentials, not the caller's.
        assert_eq!(headers["authorization"], "Basic Ym9iOnB3");
        assert_eq!(headers["x-scope-orgid"], "team-a");
        assert_eq!(headers["content-type"], "application/x-www-form-urlencoded");
    }
    let id = ds.by_uid("rl").unwrap().id;
    let (s, _, _) = call(&r, "GET", &format!("/api/datasources/proxy/{id}/loki/api/v1/label/app/values"), "").await;
    assert_eq!(s, StatusCode::CREATED);

    let (s, _, body) = call(&r, "GET", "/api/datasources/proxy/uid/rl/loki/api/v1/push", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(body.contains("/loki/api/v1/push"), "{body}");
    let (s, _, _) = call(&r, "GET", "/api/datasources/proxy/uid/rl/loki/api/v1/label/../../../admin/values", "").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(seen.lock().unwrap().len(), 2, "refused requests never reach the upstream");

    // jsonData.timeout is 1 s; the upstream takes 3.
    let (s, _, body) = call(&r, "GET", "/api/datasources/proxy/uid/rl/loki/api/v1/query_range", "").await;
    assert_eq!(s, StatusCode::GATEWAY_TIMEOUT, "{body}");
    let (s, _, body) = call(&r, "GET", "/api/datasources/proxy/uid/ds-down/api/v1/query", "").await;
    assert_eq!(s, StatusCode::BAD_GATEWAY);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(v["message"].as_str().unwrap().contains("Down"), "{body}");
    let (s, _, _) = call(&r, "GET", "/api/datasources/proxy/uid/nope/api/v1/query", "").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The built-in data source is answered by the router handed in, with the caller's headers.
    let local = axum::Router::new().route(
        "/loki/api/v1/labels",
        axum::routing::get(|h: HeaderMap, uri: axum::http::Uri| async move {
            format!("{} {}", h["authorization"].to_str().unwrap(), uri.query().unwrap_or(""))
        }),
    );
    let (s, _, _) = call(&r, "GET", "/api/datasources/proxy/uid/bitacora/loki/api/v1/labels", "").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "not handed a router yet");
    ds.set_local(local);
    let (s, _, body) = call(&r, "GET", "/api/datasources/proxy/uid/bitacora/loki/api/v1/labels?start=1", "").await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "Bearer the-callers-own start=1"));

    // Files change: read again.
    std::fs::remove_file(dir.path().join("datasources/a.yaml")).unwrap();
    assert!(ds.reload());
    assert_eq!(ds.all().len(), 1);
    assert!(ds.by_uid("bitacora").unwrap().is_default);
}
