//! The ruler through its HTTP API on a loopback port, over the real LogQL engine: groups
//! created with Loki's ruler API fire and resolve with exact `for` timing, invalid rules are
//! refused with their place, and Prometheus' read API shows rules and alerts.

mod common;

use std::sync::Arc;

use common::*;
use rules::RulerConfig;
use serde_json::Value;

const T0: i64 = 1_700_000_000 * S;

const GROUP: &str = r#"
name: shop-errors
interval: 1m
rules:
  - alert: ShopErrors
    expr: sum by (app) (count_over_time({app="shop"} |= "error" [1m])) > 3
    for: 2m
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.app }} has {{ $value }} errors"
  - record: app:errors:count1m
    expr: sum by (app) (count_over_time({app="shop"} |= "error" [1m]))
"#;

async fn prom_rules(base: &str, q: &str) -> Value {
    reqwest::get(format!("{base}/prometheus/api/v1/rules{q}")).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn a_group_posted_through_the_api_fires_and_resolves_with_exact_for_timing() {
    let dir = tempfile::tempdir().unwrap();
    let src = Arc::new(logql::MemorySource::new());
    // Errors every 10 s from T0-5m to T0+3m; nothing after.
    src.push(labels(&[("app", "shop")]), lines(T0 - 5 * M, T0 + 3 * M, 10 * S, "level=error boom"));
    let e = env(RulerConfig::default(), dir.path(), src).await;
    let c = reqwest::Client::new();

    let r = reqwest::get(format!("{}/loki/api/v1/rules", e.base)).await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.text().await.unwrap(), "no rule groups found");

    let r = c.post(format!("{}/loki/api/v1/rules/shop", e.base)).body(GROUP).send().await.unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(r.text().await.unwrap(), r#"{"status":"success","data":null,"errorType":"","error":""}"#);
    assert!(dir.path().join("rules/fake/shop.yaml").is_file());

    let all = reqwest::get(format!("{}/loki/api/v1/rules", e.base)).await.unwrap().text().await.unwrap();
    let parsed: std::collections::BTreeMap<String, Vec<rules::RuleGroup>> = serde_saphyr::from_str(&all).unwrap();
    assert_eq!(parsed["shop"][0].name, "shop-errors");
    assert_eq!(parsed["shop"][0].rules[0].for_.unwrap().0.as_secs(), 120);
    let one = reqwest::get(format!("{}/api/prom/rules/shop/shop-errors", e.base)).await.unwrap().text().await.unwrap();
    assert_eq!(rules::parse_group(&one).unwrap(), parsed["shop"][0]);
    let other = c.get(format!("{}/loki/api/v1/rules", e.base)).header("X-Scope-OrgID", "other").send().await.unwrap();
    assert_eq!(other.status(), 404, "tenants do not see each other's rules");

    let v = prom_rules(&e.base, "").await;
    let rule = &v["data"]["groups"][0]["rules"][0];
    assert_eq!(rule["state"], "inactive");
    assert_eq!(rule["health"], "unknown");
    assert_eq!(rule["duration"], 120.0);

    let eval = |ts: i64| {
        let r = e.ruler.clone();
        async move { r.evaluate_group_at("fake", "shop", "shop-errors", ts).await.unwrap() }
    };
    eval(T0).await;
    let v = prom_rules(&e.base, "?type=alert").await;
    let rule = &v["data"]["groups"][0]["rules"][0];
    assert_eq!(
        v["data"]["groups"][0]["rules"].as_array().unwrap().len(),
        1,
        "type=alert leaves the recording rule out"
    );
    assert_eq!(rule["state"], "pending");
    assert_eq!(rule["health"], "ok");
    let a = &rule["alerts"][0];
    assert_eq!(a["labels"]["alertname"], "ShopErrors");
    assert_eq!(a["labels"]["severity"], "page");
    assert_eq!(a["labels"]["app"], "shop");
    assert_eq!(a["annotations"]["summary"], "shop has 6 errors");
    assert_eq!(a["value"], "6e+00");
    assert_eq!(a["activeAt"], "2023-11-14T22:13:20Z");
    assert!(e.sink.0.lock().is_empty(), "pending alerts are not sent");

    eval(T0 + M + 59 * S).await;
    let alerts: Value =
        reqwest::get(format!("{}/prometheus/api/v1/alerts", e.base)).await.unwrap().json().await.unwrap();
    assert_eq!(alerts["data"]["alerts"][0]["state"], "pending", "1m59s < for");
    eval(T0 + 2 * M).await;
    let alerts: Value =
        reqwest::get(format!("{}/prometheus/api/v1/alerts", e.base)).await.unwrap().json().await.unwrap();
    assert_eq!(alerts["data"]["alerts"][0]["state"], "firing", "fires exactly at activeAt + for");
    {
        let sent = e.sink.0.lock();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].labels["alertname"], "ShopErrors");
        assert_eq!(sent[0].starts_at.unwrap().as_nanosecond() as i64, T0 + 2 * M);
        assert_eq!(sent[0].ends_at.unwrap().as_nanosecond() as i64, T0 + 2 * M + 4 * M);
        assert!(
            sent[0].generator_url.contains("namespace=shop&group=shop-errors&rule=ShopErrors"),
            "{}",
            sent[0].generator_url
        );
    }
    // No data in (T0+4m, T0+5m]: resolved, and sent as resolved with endsAt = now.
    eval(T0 + 5 * M).await;
    let alerts: Value =
        reqwest::get(format!("{}/prometheus/api/v1/alerts", e.base)).await.unwrap().json().await.unwrap();
    assert!(alerts["data"]["alerts"].as_array().unwrap().is_empty());
    {
        let sent = e.sink.0.lock();
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1].ends_at.unwrap().as_nanosecond() as i64, T0 + 5 * M);
    }
    assert_eq!(
        e.history.states(),
        [
            ("pending".into(), "inactive".into(), T0),
            ("firing".into(), "pending".into(), T0 + 2 * M),
            ("inactive".into(), "firing".into(), T0 + 5 * M)
        ]
    );
    let (tenant, stream, _, line) = e.history.0.lock()[1].clone();
    assert_eq!(tenant, "fake");
    assert_eq!(stream.to_string(), r#"{alertname="ShopErrors", app="bitacora", source="alerts"}"#);
    assert_eq!(line["labels"]["app"], "shop");
    assert_eq!(line["namespace"], "shop");
    assert_eq!(line["group"], "shop-errors");
    assert_eq!(line["activeAt"], "2023-11-14T22:13:20Z");

    let v = prom_rules(&e.base, "?type=record&rule_name[]=app:errors:count1m").await;
    let rec = &v["data"]["groups"][0]["rules"][0];
    assert_eq!(rec["type"], "recording");
    assert_eq!(rec["health"], "ok");
    assert_eq!(v["data"]["groups"][0]["file"], "shop");
    assert_eq!(v["data"]["groups"][0]["interval"], 60.0);
    let v = prom_rules(&e.base, "?rule_group[]=nope").await;
    assert!(v["data"]["groups"].as_array().unwrap().is_empty());
    let r = reqwest::get(format!("{}/prometheus/api/v1/rules?type=bogus", e.base)).await.unwrap();
    assert_eq!(r.status(), 400);

    // Editing the group's second rule keeps the first rule's state (here: its resolved alert).
    let edited = GROUP.replace("app:errors:count1m", "app:errors:c1m");
    assert_eq!(c.post(format!("{}/loki/api/v1/rules/shop", e.base)).body(edited).send().await.unwrap().status(), 202);
    let v = prom_rules(&e.base, "").await;
    assert_eq!(v["data"]["groups"][0]["rules"][0]["health"], "ok", "unchanged rule kept its status");
    assert_eq!(v["data"]["groups"][0]["rules"][1]["health"], "unknown", "changed rule starts afresh");

    let r = c.delete(format!("{}/loki/api/v1/rules/shop/nope", e.base)).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = c.delete(format!("{}/loki/api/v1/rules/shop/shop-errors", e.base)).send().await.unwrap();
    assert_eq!(r.status(), 202);
    assert!(!dir.path().join("rules/fake/shop.yaml").exists());
    assert_eq!(reqwest::get(format!("{}/loki/api/v1/rules/shop", e.base)).await.unwrap().status(), 404);
    assert!(prom_rules(&e.base, "").await["data"]["groups"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn invalid_rules_are_refused_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(RulerConfig::default(), dir.path(), Arc::new(logql::MemorySource::new())).await;
    let c = reqwest::Client::new();
    let post = |body: &'static str| {
        let c = c.clone();
        let url = format!("{}/loki/api/v1/rules/ns1", e.base);
        async move {
            let r = c.post(url).body(body).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, m) =
        post("name: g\nrules:\n  - alert: A\n    expr: ok\n  - alert: Broken\n    expr: sum(rate({app=\"a\"}[1m]) >\n")
            .await;
    assert_eq!(s, 400);
    assert!(m.starts_with(r#"namespace "ns1", group "g", rule 1 ("A"): expr: parse error at line 1, col 1"#), "{m}");
    let (s, m) = post("name: g\nrules:\n  - alert: A\n    expr: vector(1)\n  - alert: Broken\n    expr: sum(rate({app=\"a\"}[1m]) >\n").await;
    assert_eq!(s, 400);
    assert!(m.contains(r#"rule 2 ("Broken"): expr: parse error at line 1, col"#), "{m}");
    let (s, m) = post("name: g\nrules:\n  - alert: A\n    expr: '{app=\"a\"}'\n").await;
    assert_eq!(s, 400);
    assert!(m.contains("expr:") && m.contains("log query"), "{m}");
    let (s, m) = post("name: g\nrules:\n  - alert: A\n    expr: vector(1)\n    for: soon\n").await;
    assert_eq!(s, 400);
    assert!(m.contains("invalid rule group YAML") && m.contains("not a valid duration string"), "{m}");
    let (s, m) = post("name: g\nrules:\n  - record: 'a-b'\n    expr: vector(1)\n").await;
    assert_eq!((s, m.contains("record: invalid recording rule name")), (400, true), "{m}");
    let (s, _) = post("").await;
    assert_eq!(s, 400);
    let r = c.post(format!("{}/loki/api/v1/rules/.hidden", e.base)).body("name: g\nrules: []\n").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(reqwest::get(format!("{}/loki/api/v1/rules", e.base)).await.unwrap().status(), 404, "nothing was saved");
}

#[tokio::test]
async fn templates_list_the_dokku_rules() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(RulerConfig::default(), dir.path(), Arc::new(logql::MemorySource::new())).await;
    let v: Value = reqwest::get(format!("{}/api/alerting/templates", e.base)).await.unwrap().json().await.unwrap();
    assert_eq!(v[0]["name"], "dokku");
    assert_eq!(v[0]["namespace"], "dokku");
    let file = rules::parse_file(v[0]["yaml"].as_str().unwrap()).unwrap();
    rules::validate_file("dokku", &file).unwrap();
    // Installing it is posting its group.
    let body = serde_saphyr::to_string(&file.groups[0]).unwrap();
    let r = reqwest::Client::new().post(format!("{}/loki/api/v1/rules/dokku", e.base)).body(body).send().await.unwrap();
    assert_eq!(r.status(), 202);
    let v = prom_rules(&e.base, "?file[]=dokku").await;
    assert_eq!(v["data"]["groups"][0]["rules"].as_array().unwrap().len(), 3);
}
