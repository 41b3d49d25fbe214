//! Unit tests of the authentication state: hashing, classification, limits, reload.
use super::*;

fn cfg(yaml: serde_json::Value) -> AuthConfig {
    serde_json::from_value(yaml).unwrap()
}

#[test]
fn paths_by_prefix() {
    let a = Auth::new(&AuthConfig::default(), &mut Registry::default()).unwrap();
    assert_eq!(a.classify("/ready"), Access::Open);
    assert_eq!(a.classify("/metrics"), Access::Open);
    assert_eq!(a.classify("/api/v1/admin/snapshot"), Access::Admin);
    assert_eq!(a.classify("/api/v1/admin/anything/new"), Access::Admin);
    assert_eq!(a.classify("/flush"), Access::Admin);
    assert_eq!(a.classify("/config"), Access::Admin);
    assert_eq!(a.classify("/log_level"), Access::Admin);
    assert_eq!(a.classify("/otlp/v1/logs"), Access::Push);
    assert_eq!(a.classify("/api/prom/tail"), Access::Read);
    assert_eq!(a.classify("/loki/api/v1/push"), Access::Push);
    assert_eq!(a.classify("/loki/api/v1/query_range"), Access::Read);
    assert_eq!(a.classify("/apps"), Access::Ui);
    // The apps page's API: containers' state and stats are reads.
    assert_eq!(a.classify("/api/apps"), Access::Read);
    assert_eq!(a.classify("/api/apps/containers/3f2a9c1b7d4e"), Access::Read);
    assert_eq!(a.classify("/login"), Access::Public);
    assert_eq!(a.classify("/assets/index-x.js"), Access::Public);
}

#[test]
fn alerting_writes_need_admin_and_alert_intake_push() {
    let a = Auth::new(&AuthConfig::default(), &mut Registry::default()).unwrap();
    let c = a.cfg.load();
    for p in ["/loki/api/v1/rules/ns", "/api/prom/rules/ns/g", "/api/v2/silences", "/api/v2/silence/abc"] {
        assert_eq!(classify_request(&c, true, p), Access::Read, "GET {p}");
        assert_eq!(classify_request(&c, false, p), Access::Admin, "POST/DELETE {p}");
    }
    assert_eq!(classify_request(&c, false, "/api/alerting/receivers/team/test"), Access::Admin);
    assert_eq!(classify_request(&c, false, "/api/v2/alerts"), Access::Push);
    assert_eq!(classify_request(&c, false, "/alertmanager/api/v2/alerts"), Access::Push);
    assert_eq!(classify_request(&c, true, "/alertmanager/api/v2/alerts"), Access::Read);
    // Queries may be POSTed with read access, as before.
    assert_eq!(classify_request(&c, false, "/loki/api/v1/query_range"), Access::Read);
    // Delete requests: listed with read, created (POST, PUT) and cancelled (DELETE) by admins.
    assert_eq!(classify_request(&c, true, "/loki/api/v1/delete"), Access::Read);
    assert_eq!(classify_request(&c, false, "/loki/api/v1/delete"), Access::Admin);
}

#[test]
fn dashboard_writes_need_admin_and_proxied_queries_read() {
    let a = Auth::new(&AuthConfig::default(), &mut Registry::default()).unwrap();
    let c = a.cfg.load();
    for p in [
        "/api/dashboards/db",
        "/api/dashboards/uid/x",
        "/api/dashboards/uid/x/restore",
        "/api/folders",
        "/api/datasources",
    ] {
        assert_eq!(classify_request(&c, true, p), Access::Read, "GET {p}");
        assert_eq!(classify_request(&c, false, p), Access::Admin, "POST/DELETE {p}");
    }
    for p in ["/api/datasources/proxy/uid/prom/api/v1/query", "/api/datasources/proxy/2/api/v1/query_range"] {
        assert_eq!(classify_request(&c, false, p), Access::Read, "POST {p}");
    }
    assert_eq!(classify_request(&c, true, "/api/search"), Access::Read);
}

#[test]
fn config_errors_name_the_entry() {
    let e = cfg(serde_json::json!({"users": [{"username": "ann", "password_hash": "plain"}]})).compile().unwrap_err();
    assert!(e.0.contains("\"ann\"") && e.0.contains("hash-password"), "{e}");
    let h = hash_password(b"x").unwrap();
    let e = cfg(serde_json::json!({"tokens": [{"name": "t", "token_hash": h, "scopes": []}]})).compile().unwrap_err();
    assert!(e.0.contains("no scopes"), "{e}");
    let e = cfg(serde_json::json!({"proxy": {"user_header": "X-Forwarded-User", "trusted_proxies": ["10.0.0.300/8"]}}))
        .compile()
        .unwrap_err();
    assert!(e.0.contains("10.0.0.300/8"), "{e}");
}

#[test]
fn forwarded_for_only_from_trusted_proxies() {
    let c =
        cfg(serde_json::json!({"proxy": {"user_header": "X-User", "trusted_proxies": ["127.0.0.1/32", "10.0.0.0/8"]}}))
            .compile()
            .unwrap();
    let mut r = Request {
        peer: Some("127.0.0.1".parse().unwrap()),
        forwarded_for: Some("203.0.113.9, 10.1.2.3".into()),
        ..Default::default()
    };
    assert_eq!(client_ip(&c, &r), Some("203.0.113.9".parse().unwrap()));
    r.peer = Some("192.0.2.1".parse().unwrap());
    assert_eq!(client_ip(&c, &r), Some("192.0.2.1".parse().unwrap()));
}

/// The cost of one login: `cargo test -p auth --release -- argon2 --nocapture` prints it.
#[test]
fn argon2_cost() {
    let h = hash_password(b"pw").unwrap();
    assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    let t = Instant::now();
    for _ in 0..5 {
        assert!(verify_password(&h, b"pw"));
    }
    eprintln!("argon2id verify (m=19456 KiB, t=2, p=1): {:.1} ms", t.elapsed().as_secs_f64() * 1000.0 / 5.0);
    assert!(!verify_password(&h, b"pW"));
    assert!(!verify_password("$argon2id$v=19$garbage", b"pw"));
}

#[tokio::test]
async fn reload_swaps_users_and_forgets_cached_credentials() {
    let (h1, h2) = (hash_password(b"pw1").unwrap(), hash_password(b"pw2").unwrap());
    let a = Auth::new(
        &cfg(serde_json::json!({"users": [{"username": "ann", "password_hash": h1}]})),
        &mut Registry::default(),
    )
    .unwrap();
    let basic = |u: &str, p: &str| Request {
        method: "GET".into(),
        path: "/loki/api/v1/labels".into(),
        peer: Some("127.0.0.1".parse().unwrap()),
        authorization: Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")))),
        ..Default::default()
    };
    assert!(matches!(a.authenticate(&basic("ann", "pw1")).await, Decision::Allow(_)));
    let s = a.login(&basic("ann", "pw1"), "ann", "pw1").await.unwrap();
    let with_session = Request { session: Some(s.id.clone()), authorization: None, ..basic("", "") };
    assert!(matches!(a.authenticate(&with_session).await, Decision::Allow(_)));
    // A bad configuration is refused and the running one stays.
    let bad = cfg(serde_json::json!({"users": [{"username": "bob", "password_hash": "x"}]}));
    assert!(a.reload(&bad).is_err());
    assert!(matches!(a.authenticate(&basic("ann", "pw1")).await, Decision::Allow(_)));
    // ann's password changes: the old one, verified and cached above, no longer works.
    a.reload(&cfg(serde_json::json!({"users": [{"username": "ann", "password_hash": h2}]}))).unwrap();
    assert!(matches!(a.authenticate(&basic("ann", "pw1")).await, Decision::Invalid { .. }));
    assert!(matches!(a.authenticate(&basic("ann", "pw2")).await, Decision::Allow(_)));
    assert!(matches!(a.authenticate(&with_session).await, Decision::Allow(_)));
    // ann is removed: her session ends too.
    a.reload(&cfg(serde_json::json!({"users": [{"username": "bob", "password_hash": h2}]}))).unwrap();
    assert!(matches!(a.authenticate(&with_session).await, Decision::Unauthenticated { .. }));
    assert!(matches!(a.authenticate(&basic("bob", "pw2")).await, Decision::Allow(_)));
    a.logout(&s.id);
}

#[test]
fn limiter_windows() {
    let mut l = Limiter::default();
    let w = Duration::from_millis(50);
    for _ in 0..3 {
        assert!(l.blocked("k", 3, w).is_none());
        l.fail("k".into(), w);
    }
    assert!(l.blocked("k", 3, w).is_some());
    std::thread::sleep(Duration::from_millis(60));
    assert!(l.blocked("k", 3, w).is_none());
}
