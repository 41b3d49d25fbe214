//! Access control on a real server: basic auth (as Grafana, logcli and Promtail send it), bearer
//! tokens with scopes and tenants, login sessions with CSRF, the login rate limit, a trusted
//! proxy's user header, open paths, the python-logging-loki client with credentials, and HTTPS
//! with a test CA whose certificate is replaced on disk while the server runs.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, free_port, now_ns};

/// `bitacora hash-password` of `secret`.
fn hash(secret: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bitacora"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{secret}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let h = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(h.starts_with("$argon2id$v=19$"), "{h}");
    h
}

const ANN_PW: &str = "correct horse battery staple";
const BOB_PW: &str = "bob's password";
const PUSH_TOKEN: &str = "bt_push_6f1c0a9e2b7d4c83a5e1f0d29b8c7a61";
const READ_TOKEN: &str = "bt_read_0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a";
const ADMIN_TOKEN: &str = "bt_admin_a1b2c3d4e5f60718293a4b5c6d7e8f90";

/// A configuration file with two users (bob pinned to tenant team-b) and three tokens.
fn config_file(dir: &Path, extra: &str) -> PathBuf {
    let yaml = format!(
        r#"auth:
  users:
    - username: ann
      password_hash: '{}'
    - username: bob
      password_hash: '{}'
      tenant: team-b
  tokens:
    - name: promtail
      token_hash: '{}'
      scopes: [push]
      tenant: team-a
    - name: grafana
      token_hash: '{}'
      scopes: [read]
      tenant: team-a
    - name: ops
      token_hash: '{}'
      scopes: [admin]
{extra}"#,
        hash(ANN_PW),
        hash(BOB_PW),
        hash(PUSH_TOKEN),
        hash(READ_TOKEN),
        hash(ADMIN_TOKEN),
    );
    let p = dir.join("bitacora.yaml");
    std::fs::write(&p, yaml).unwrap();
    p
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn push_body(app: &str, line: &str) -> String {
    serde_json::json!({"streams": [{"stream": {"app": app}, "values": [[now_ns().to_string(), line]]}]}).to_string()
}

/// The value of one sample in `/metrics`, 0 when absent.
async fn metric(c: &reqwest::Client, base: &str, series: &str) -> f64 {
    let text = c.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')).map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0.0)
}

async fn lines_of(
    c: &reqwest::Client,
    base: &str,
    query: &str,
    auth: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Vec<String> {
    let r = auth(c.get(format!("{base}/loki/api/v1/query_range")))
        .query(&[("query", query), ("since", "10m"), ("limit", "1000")])
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    let mut out: Vec<String> = v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["values"].as_array().unwrap().iter().map(|e| e[1].as_str().unwrap().to_string()))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn basic_auth_and_scoped_tokens_with_tenants() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config_file(tmp.path(), "");
    let srv = Server::start(&[("BITACORA_CONFIG", cfg.to_str().unwrap())]);
    let c = client();
    let base = srv.addr.clone();
    let url = |p: &str| format!("{base}{p}");

    // Open paths stay open; everything else needs credentials, and says how to give them.
    assert_eq!(c.get(url("/ready")).send().await.unwrap().status(), 200);
    assert_eq!(c.get(url("/metrics")).send().await.unwrap().status(), 200);
    for path in ["/loki/api/v1/labels", "/loki/api/v1/query_range?query=%7Bapp%3D%22x%22%7D", "/config"] {
        let r = c.get(url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let www = r.headers().get("www-authenticate").unwrap().to_str().unwrap().to_string();
        assert!(www.starts_with("Basic realm=\"bitacora\""), "{www}");
        assert!(r.text().await.unwrap().contains("authentication required"));
    }
    let r = c
        .post(url("/loki/api/v1/push"))
        .header("content-type", "application/json")
        .body(push_body("x", "nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c.post(url("/flush")).send().await.unwrap();
    assert_eq!(r.status(), 401);

    // Basic auth, as Grafana's Loki data source and logcli send it.
    let r = c.get(url("/loki/api/v1/labels")).basic_auth("ann", Some("wrong")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.text().await.unwrap(), "invalid user name or password");
    let r = c.get(url("/loki/api/v1/labels")).basic_auth("nobody", Some(ANN_PW)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = c.get(url("/loki/api/v1/labels")).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.text().await.unwrap(), "invalid bearer token");
    let r = c.get(url("/loki/api/v1/labels")).header("authorization", "Digest x").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("unsupported Authorization scheme"));

    // A push token pushes (into its tenant), and may do nothing else.
    let r = c
        .post(url("/loki/api/v1/push"))
        .bearer_auth(PUSH_TOKEN)
        .header("content-type", "application/json")
        .body(push_body("shop", "pushed with the promtail token"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    let r = c.get(url("/loki/api/v1/labels")).bearer_auth(PUSH_TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.text().await.unwrap(),
        "token \"promtail\" has the scopes [push]; /loki/api/v1/labels needs the read scope"
    );
    let r = c.post(url("/flush")).bearer_auth(PUSH_TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // A token's tenant is its requests' tenant: another X-Scope-OrgID is refused.
    let r = c
        .post(url("/loki/api/v1/push"))
        .bearer_auth(PUSH_TOKEN)
        .header("x-scope-orgid", "team-b")
        .header("content-type", "application/json")
        .body(push_body("shop", "into another tenant"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("does not match the tenant"));

    // A read token reads its tenant (with or without a matching X-Scope-OrgID), cannot push.
    let read = |b: reqwest::RequestBuilder| b.bearer_auth(READ_TOKEN);
    assert_eq!(lines_of(&c, &base, "{app=\"shop\"}", read).await, vec!["pushed with the promtail token"]);
    let r = c
        .get(url("/loki/api/v1/labels"))
        .bearer_auth(READ_TOKEN)
        .header("x-scope-orgid", "team-a")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(url("/loki/api/v1/push"))
        .bearer_auth(READ_TOKEN)
        .header("content-type", "application/json")
        .body(push_body("shop", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("needs the push scope"));
    // Admin routes, present and future, by prefix.
    for (m, p) in
        [("POST", "/flush"), ("GET", "/config"), ("POST", "/api/v1/admin/snapshot"), ("GET", "/api/v1/admin/x")]
    {
        let r = c.request(m.parse().unwrap(), url(p)).bearer_auth(READ_TOKEN).send().await.unwrap();
        assert_eq!(r.status(), 403, "{m} {p}");
        assert!(r.text().await.unwrap().contains("needs the admin scope"));
    }

    // The command line client, as logcli: a token or basic auth, or a clear refusal.
    let cli = |extra: &[&str]| {
        let mut args = vec!["query", "{app=\"shop\"}", "--addr", base.as_str(), "--since", "10m", "--output", "raw"];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_bitacora")).args(&args).output().unwrap()
    };
    let out = cli(&["--bearer-token", READ_TOKEN]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "pushed with the promtail token");
    let out = cli(&[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401 Unauthorized: authentication required"));
    let out = cli(&["--username", "ann", "--password", ANN_PW, "--tenant", "team-a"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Live tail over a WebSocket, as Grafana and logcli open it: with the token's tenant.
    let ws_url = format!(
        "ws://127.0.0.1:{}/loki/api/v1/tail?query=%7Bapp%3D%22shop%22%7D&start={}",
        srv.port,
        now_ns() - 600_000_000_000
    );
    let mut ws_req =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws_url.as_str()).unwrap();
    assert!(tokio_tungstenite::connect_async(ws_req.clone()).await.is_err(), "a tail without credentials");
    ws_req.headers_mut().insert("authorization", format!("Bearer {READ_TOKEN}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_req).await.unwrap();
    let msg = tokio::time::timeout(Duration::from_secs(5), futures_util::StreamExt::next(&mut ws))
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(msg.to_text().unwrap().contains("pushed with the promtail token"), "{msg}");
    drop(ws);

    // Users are admins; bob is pinned to team-b and does not see team-a.
    let r = c
        .post(url("/loki/api/v1/push"))
        .basic_auth("bob", Some(BOB_PW))
        .header("content-type", "application/json")
        .body(push_body("shop", "bob's line"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let bob = |b: reqwest::RequestBuilder| b.basic_auth("bob", Some(BOB_PW));
    assert_eq!(lines_of(&c, &base, "{app=\"shop\"}", bob).await, vec!["bob's line"]);
    assert_eq!(lines_of(&c, &base, "{app=\"shop\"}", read).await, vec!["pushed with the promtail token"]);
    // ann has no tenant: the default one, where nothing was pushed.
    let ann = |b: reqwest::RequestBuilder| b.basic_auth("ann", Some(ANN_PW));
    assert!(lines_of(&c, &base, "{app=\"shop\"}", ann).await.is_empty());

    // The admin token may flush and read the configuration, which shows no hash.
    let r = c.post(url("/flush")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = c.get(url("/config")).basic_auth("ann", Some(ANN_PW)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(text.contains("username: ann") && text.contains("name: promtail"), "{text}");
    assert!(!text.contains("argon2") && text.contains("password_hash: <secret>"), "{text}");
    // A route the admin may use but that does not exist is a 404, not a 401/403.
    let r = c.post(url("/api/v1/admin/not-yet")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // Verified credentials are cached: 20 more requests, no argon2.
    let hits = "bitacora_auth_cache_hits_total";
    let before = metric(&c, &base, hits).await;
    let verified = r#"bitacora_auth_attempts_total{method="basic",outcome="success"}"#;
    let verified_before = metric(&c, &base, verified).await;
    let t = Instant::now();
    for _ in 0..20 {
        let r = c.get(url("/loki/api/v1/labels")).basic_auth("ann", Some(ANN_PW)).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let cached_ms = t.elapsed().as_secs_f64() * 1000.0 / 20.0;
    assert_eq!(metric(&c, &base, hits).await - before, 20.0);
    assert_eq!(metric(&c, &base, verified).await, verified_before);
    eprintln!("basic auth, cached: {cached_ms:.2} ms per request");
    assert!(metric(&c, &base, r#"bitacora_auth_attempts_total{method="basic",outcome="failure"}"#).await >= 2.0);
    assert!(metric(&c, &base, r#"bitacora_auth_attempts_total{method="bearer",outcome="failure"}"#).await >= 1.0);
    assert!(metric(&c, &base, r#"bitacora_auth_denied_total{status="403"}"#).await >= 5.0);
}

fn set_cookie(r: &reqwest::Response) -> String {
    r.headers().get("set-cookie").expect("a Set-Cookie header").to_str().unwrap().to_string()
}

async fn login(c: &reqwest::Client, base: &str, user: &str, pw: &str) -> reqwest::Response {
    c.post(format!("{base}/auth/login"))
        .header("content-type", "application/json")
        .body(serde_json::json!({"username": user, "password": pw}).to_string())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn login_session_csrf_logout_and_rate_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config_file(tmp.path(), "  login_max_failures: 3\n  login_failure_window: 1m\n");
    let srv = Server::start(&[("BITACORA_CONFIG", cfg.to_str().unwrap())]);
    let c = client();
    let base = srv.addr.clone();
    let url = |p: &str| format!("{base}{p}");

    // A UI page without a session goes to the login page, which is served to anyone.
    let r = c.get(url("/explore?query=x")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=%2Fexplore%3Fquery%3Dx");
    let r = c.get(url("/login")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // Also with stale credentials a browser may still send.
    let r = c.get(url("/login")).basic_auth("ann", Some("old password")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<div id=\"root\">"));
    let v: serde_json::Value = c.get(url("/auth/session")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v, serde_json::json!({"auth_enabled": true, "user": null, "csrf": null, "tenant": null, "via": null}));

    // The right password opens a session: an HttpOnly, SameSite cookie (not Secure over HTTP).
    let r = login(&c, &base, "ann", ANN_PW).await;
    assert_eq!(r.status(), 200);
    let cookie_hdr = set_cookie(&r);
    assert!(
        cookie_hdr.contains("HttpOnly") && cookie_hdr.contains("SameSite=Lax") && !cookie_hdr.contains("Secure"),
        "{cookie_hdr}"
    );
    let v: serde_json::Value = r.json().await.unwrap();
    let csrf = v["csrf"].as_str().unwrap().to_string();
    assert_eq!(v["user"], "ann");
    let cookie = cookie_hdr.split(';').next().unwrap().to_string();
    let v: serde_json::Value =
        c.get(url("/auth/session")).header("cookie", &cookie).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["user"], "ann");
    assert_eq!(v["via"], "session");
    assert_eq!(v["csrf"], csrf.as_str());
    let r = c.get(url("/loki/api/v1/labels")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(c.get(url("/apps")).header("cookie", &cookie).send().await.unwrap().status(), 200);

    // Changing something with the cookie needs the CSRF token, and the same origin.
    let r = c.post(url("/flush")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("x-csrf-token"));
    let r = c.post(url("/flush")).header("cookie", &cookie).header("x-csrf-token", "forged").send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(url("/flush"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("cross-origin"));
    let r = c
        .post(url("/flush"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .header("origin", &base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // Live tail with the cookie: from this origin only (no cross-site WebSocket hijacking).
    let ws_url = format!("ws://127.0.0.1:{}/loki/api/v1/tail?query=%7Bapp%3D%22shop%22%7D", srv.port);
    let ws_req = |origin: &str| {
        let mut r =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(ws_url.as_str()).unwrap();
        r.headers_mut().insert("cookie", cookie.parse().unwrap());
        r.headers_mut().insert("origin", origin.parse().unwrap());
        r
    };
    assert!(tokio_tungstenite::connect_async(ws_req("https://evil.example")).await.is_err());
    assert!(tokio_tungstenite::connect_async(ws_req(&base)).await.is_ok());
    // A login form posted from another site is refused too.
    let r = c
        .post(url("/auth/login"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=ann&password={}", ANN_PW.replace(' ', "+")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Logout ends the session and clears the cookie.
    let r = c.post(url("/auth/logout")).header("cookie", &cookie).header("x-csrf-token", &csrf).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(set_cookie(&r).contains("Max-Age=0"));
    let r = c.get(url("/loki/api/v1/labels")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(c.get(url("/apps")).header("cookie", &cookie).send().await.unwrap().status(), 303);

    // Wrong passwords: refused with a message, then 429 after 3, even with the right one.
    let failures = r#"bitacora_auth_attempts_total{method="login",outcome="failure"}"#;
    let f0 = metric(&c, &base, failures).await;
    for _ in 0..3 {
        let r = login(&c, &base, "bob", "guess").await;
        assert_eq!(r.status(), 401);
        assert_eq!(r.text().await.unwrap(), "wrong user name or password");
    }
    assert_eq!(metric(&c, &base, failures).await - f0, 3.0);
    let r = login(&c, &base, "bob", BOB_PW).await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(r.text().await.unwrap().starts_with("too many failed logins"));
    // The client's address is blocked too, for other names and for basic auth.
    assert_eq!(login(&c, &base, "ann", "guess").await.status(), 429);
    let r = c.get(url("/loki/api/v1/labels")).basic_auth("ann", Some("guess")).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(metric(&c, &base, r#"bitacora_auth_attempts_total{method="login",outcome="rate_limited"}"#).await >= 2.0);
    // A token verified before keeps working (a lockout cannot take Grafana down).
    let r = c.get(url("/loki/api/v1/labels")).bearer_auth(READ_TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 429, "never verified yet, so it is checked, and this address is blocked");
}

#[tokio::test]
async fn cached_credentials_survive_a_lockout() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config_file(tmp.path(), "  login_max_failures: 2\n");
    let srv = Server::start(&[("BITACORA_CONFIG", cfg.to_str().unwrap())]);
    let c = client();
    let url = |p: &str| format!("{}{p}", srv.addr);
    assert_eq!(c.get(url("/loki/api/v1/labels")).bearer_auth(READ_TOKEN).send().await.unwrap().status(), 200);
    assert_eq!(c.get(url("/loki/api/v1/labels")).basic_auth("ann", Some(ANN_PW)).send().await.unwrap().status(), 200);
    for _ in 0..2 {
        assert_eq!(c.get(url("/loki/api/v1/labels")).basic_auth("ann", Some("x")).send().await.unwrap().status(), 401);
    }
    assert_eq!(c.get(url("/loki/api/v1/labels")).basic_auth("ann", Some("x")).send().await.unwrap().status(), 429);
    assert_eq!(c.get(url("/loki/api/v1/labels")).bearer_auth(READ_TOKEN).send().await.unwrap().status(), 200);
    assert_eq!(c.get(url("/loki/api/v1/labels")).basic_auth("ann", Some(ANN_PW)).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn python_logging_loki_pushes_with_basic_auth() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config_file(tmp.path(), "");
    let srv = Server::start(&[("BITACORA_CONFIG", cfg.to_str().unwrap())]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/push_loki.py");
    let push_url = srv.url("/loki/api/v1/push");
    // Without credentials the library's pushes are refused (it reports them on stderr).
    let out =
        Command::new("python3").args([script, &push_url, "3", "anon"]).output().expect("python3 must be installed");
    assert!(
        out.status.success(),
        "python-logging-loki failed (scripts/test.sh installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("python3").args([script, &push_url, "30", "authed", "bob", BOB_PW]).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    // Read back as Grafana does, with basic auth: bob's tenant has the 30 lines, nothing else.
    let c = client();
    let bob = |b: reqwest::RequestBuilder| b.basic_auth("bob", Some(BOB_PW));
    let got = lines_of(&c, &srv.addr, "{app=\"pyclient\"}", bob).await;
    assert_eq!(got.len(), 30);
    assert!(got.iter().all(|l| l.ends_with("of authed")), "{got:?}");
    let r = c
        .get(srv.url("/loki/api/v1/label/run/values"))
        .basic_auth("bob", Some(BOB_PW))
        .query(&[("since", "5m")])
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["data"], serde_json::json!(["authed"]));
}

#[tokio::test]
async fn trusted_proxy_user_header_and_open_paths() {
    let tmp = tempfile::tempdir().unwrap();
    // A proxy at 127.0.0.1 vouches for X-Forwarded-User; bob's tenant follows his name.
    let cfg = config_file(
        tmp.path(),
        "  proxy:\n    user_header: X-Forwarded-User\n    trusted_proxies: [127.0.0.1/32]\n  open_paths: [/ready, /loki/api/v1/status/*]\n",
    );
    let srv = Server::start(&[("BITACORA_CONFIG", cfg.to_str().unwrap())]);
    let c = client();
    let url = |p: &str| format!("{}{p}", srv.addr);
    let r = c.get(url("/loki/api/v1/labels")).header("x-forwarded-user", "carol").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = c.get(url("/auth/session")).header("x-forwarded-user", "bob").send().await.unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (v["user"].as_str(), v["tenant"].as_str(), v["via"].as_str()),
        (Some("bob"), Some("team-b"), Some("proxy"))
    );
    assert_eq!(c.get(url("/loki/api/v1/labels")).send().await.unwrap().status(), 401);
    // Behind a TLS-terminating trusted proxy the session cookie is Secure.
    let r = c
        .post(url("/auth/login"))
        .header("x-forwarded-proto", "https")
        .header("content-type", "application/json")
        .body(serde_json::json!({"username": "ann", "password": ANN_PW}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(set_cookie(&r).contains("; Secure"));
    // Open paths are configuration: /metrics is no longer open, a prefix is.
    assert_eq!(c.get(url("/metrics")).send().await.unwrap().status(), 401);
    assert_eq!(c.get(url("/loki/api/v1/status/buildinfo")).send().await.unwrap().status(), 200);
    drop(srv);

    // From an address that is not a trusted proxy, the header is ignored.
    let tmp = tempfile::tempdir().unwrap();
    let cfg =
        config_file(tmp.path(), "  proxy:\n    user_header: X-Forwarded-User\n    trusted_proxies: [10.0.0.0/8]\n");
    let srv = Server::start(&[("BITACORA_CONFIG", cfg.to_str().unwrap())]);
    let r = c.get(format!("{}/loki/api/v1/labels", srv.addr)).header("x-forwarded-user", "carol").send().await.unwrap();
    assert_eq!(r.status(), 401);
}

#[test]
fn open_without_users_warns_off_loopback() {
    let run = |listen: &str| {
        let tmp = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_bitacora"))
            .args(["server", "--listen", &format!("{listen}:{port}"), "--data-dir"])
            .arg(tmp.path())
            .env("BITACORA_LOG_LEVEL", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        // Ready means past the start's announcements.
        let ready = || {
            use std::io::Read;
            let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.write_all(b"GET /ready HTTP/1.0\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            buf.starts_with("HTTP/1.0 200")
        };
        while !ready() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        // Bitácora logs to stdout.
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    };
    let log = run("127.0.0.1");
    assert!(log.contains("so the API and UI are open, on loopback only"), "{log}");
    assert!(!log.contains("OPEN TO ANYONE"), "{log}");
    let log = run("0.0.0.0");
    assert!(log.contains("THE API AND UI ARE OPEN TO ANYONE"), "{log}");
}

/// A CA and a server certificate for 127.0.0.1 signed by it: (ca pem, cert pem, key pem).
fn test_pki(name: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, format!("{name} test CA"));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, format!("{name} server"));
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

fn tls_client(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test]
async fn https_with_a_test_ca_and_certificate_reload() {
    let tmp = tempfile::tempdir().unwrap();
    let (ca1, cert1, key1) = test_pki("first");
    let (cert_file, key_file) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    std::fs::write(&cert_file, &cert1).unwrap();
    std::fs::write(&key_file, &key1).unwrap();
    let cfg = config_file(tmp.path(), "");
    let data = tmp.path().join("data");
    let port = free_port();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _server = Kill(
        Command::new(env!("CARGO_BIN_EXE_bitacora"))
            .args(["server", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(&data)
            .env("BITACORA_CONFIG", &cfg)
            .env("BITACORA_TLS__CERT_FILE", &cert_file)
            .env("BITACORA_TLS__KEY_FILE", &key_file)
            .env("BITACORA_TLS__RELOAD_INTERVAL", "200ms")
            .env("BITACORA_LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let base = format!("https://127.0.0.1:{port}");
    let c1 = tls_client(&ca1);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = c1.get(format!("{base}/ready")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "the HTTPS server did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Plain HTTP on the TLS port gets no answer; a client that does not trust the CA fails.
    let plain = client().get(format!("http://127.0.0.1:{port}/ready")).send().await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    let (ca2, cert2, key2) = test_pki("second");
    let c2 = tls_client(&ca2);
    assert!(c2.get(format!("{base}/ready")).send().await.is_err());

    // Over HTTPS the session cookie is Secure; basic auth works as over HTTP.
    let r = login(&c1, &base, "ann", ANN_PW).await;
    assert_eq!(r.status(), 200);
    let ck = set_cookie(&r);
    assert!(ck.contains("; Secure") && ck.contains("HttpOnly"), "{ck}");
    let r = c1.get(format!("{base}/loki/api/v1/labels")).basic_auth("ann", Some(ANN_PW)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // The command line client over HTTPS with the test CA.
    let ca_file = tmp.path().join("ca.pem");
    std::fs::write(&ca_file, &ca1).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bitacora"))
        .args(["labels", "--addr", &base, "--username", "ann", "--password", ANN_PW, "--ca-cert"])
        .arg(&ca_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // A new certificate (from another CA) replaces the files: new connections get it.
    std::fs::write(&key_file, &key2).unwrap();
    std::fs::write(&cert_file, &cert2).unwrap();
    let t = Instant::now();
    loop {
        // A new client each time: no reused connection.
        if let Ok(r) = tls_client(&ca2).get(format!("{base}/ready")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(15), "the replaced certificate was not picked up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("new certificate served {} ms after it was written", t.elapsed().as_millis());
    assert!(tls_client(&ca1).get(format!("{base}/ready")).send().await.is_err());
    // A broken certificate file is refused; the server keeps the last good one.
    std::fs::write(&cert_file, "not a certificate").unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let r = tls_client(&ca2).get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let c2 = tls_client(&ca2);
    assert!(metric(&c2, &base, r#"bitacora_tls_certificate_reloads_total{outcome="loaded"}"#).await >= 1.0);
    assert!(metric(&c2, &base, r#"bitacora_tls_certificate_reloads_total{outcome="failed"}"#).await >= 1.0);
}
