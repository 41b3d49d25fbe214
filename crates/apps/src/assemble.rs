//! The apps list from its parts: containers grouped by Dokku app (or by name outside Dokku),
//! joined with their log activity and last deploy, sorted (apps by name; containers by process
//! type, dyno, then newest first).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use crate::activity::{Activity, Key};
use crate::model::{App, Container, Deploy, Kind, selector};

/// Every app and container with containers now or lines in the last hour.
pub fn apps(
    containers: Vec<Container>,
    mut activity: BTreeMap<Key, Activity>,
    mut deploys: BTreeMap<Key, Deploy>,
) -> Vec<App> {
    let mut groups: BTreeMap<Key, Vec<Container>> = BTreeMap::new();
    for c in containers {
        let key = match &c.app {
            Some(a) => (Kind::App, a.clone()),
            None => (Kind::Container, c.name.clone()),
        };
        groups.entry(key).or_default().push(c);
    }
    for k in activity.keys() {
        groups.entry(k.clone()).or_default();
    }
    let mut out: Vec<App> = groups
        .into_iter()
        .map(|(key, mut containers)| {
            containers.sort_by(container_order);
            let mut a = activity.remove(&key).unwrap_or_default();
            let mut process_types: BTreeSet<String> = std::mem::take(&mut a.process_types);
            process_types.extend(containers.iter().filter_map(|c| c.process_type.clone()));
            let label = if key.0 == Kind::App { "app" } else { "container_name" };
            App {
                kind: key.0,
                selector: selector(label, &key.1),
                last_deploy: deploys.remove(&key),
                name: key.1,
                process_types: process_types.into_iter().collect(),
                containers,
                lines_per_minute: a.lines,
                errors_per_minute: a.errors,
                last_error: a.last_error,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.kind.cmp(&b.kind)));
    out
}

/// `web.10` after `web.9`.
fn dyno_key(d: Option<&str>) -> (String, u64) {
    let d = d.unwrap_or("");
    match d.rsplit_once('.') {
        Some((p, n)) if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() => {
            (p.to_string(), n.parse().unwrap_or(u64::MAX))
        }
        _ => (d.to_string(), 0),
    }
}

fn created(c: &Container) -> Option<jiff::Timestamp> {
    c.created_at.as_deref()?.parse().ok()
}

/// By process type, dyno, then newest first.
pub fn container_order(a: &Container, b: &Container) -> Ordering {
    a.process_type
        .cmp(&b.process_type)
        .then_with(|| dyno_key(a.dyno.as_deref()).cmp(&dyno_key(b.dyno.as_deref())))
        .then_with(|| created(b).cmp(&created(a)))
        .then_with(|| a.id.cmp(&b.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, app: Option<&str>, pt: Option<&str>, dyno: Option<&str>, created: &str) -> Container {
        Container {
            id: id.into(),
            name: match (app, dyno) {
                (Some(a), Some(d)) => format!("{a}.{d}"),
                _ => id.into(),
            },
            app: app.map(Into::into),
            process_type: pt.map(Into::into),
            dyno: dyno.map(Into::into),
            created_at: Some(created.into()),
            ..Default::default()
        }
    }

    #[test]
    fn grouped_and_sorted() {
        let shop = Some("shop");
        let containers = vec![
            c("w10", shop, Some("web"), Some("web.10"), "2026-01-01T00:00:00Z"),
            c("w2", shop, Some("web"), Some("web.2"), "2026-01-01T00:00:00Z"),
            c("old", shop, Some("web"), Some("web.1"), "2026-01-01T00:00:00Z"),
            c("new", shop, Some("web"), Some("web.1"), "2026-01-01T00:00:00.5Z"),
            c("wk", shop, Some("worker"), Some("worker.1"), "2026-01-01T00:00:00Z"),
            c("blog-db-1", None, None, None, "2026-01-01T00:00:00Z"),
        ];
        let mut act = BTreeMap::new();
        let mut busy = Activity::default();
        busy.lines[59] = 5.0;
        act.insert((Kind::App, "archived".to_string()), busy);
        let apps = apps(containers, act, BTreeMap::new());
        let names: Vec<(&str, Kind)> = apps.iter().map(|a| (a.name.as_str(), a.kind)).collect();
        assert_eq!(names, vec![("archived", Kind::App), ("blog-db-1", Kind::Container), ("shop", Kind::App)]);
        assert_eq!(apps[0].lines_per_minute[59], 5.0);
        assert!(apps[0].containers.is_empty());
        assert_eq!(apps[1].selector, r#"{container_name="blog-db-1"}"#);
        let shop = &apps[2];
        assert_eq!(shop.selector, r#"{app="shop"}"#);
        assert_eq!(shop.process_types, vec!["web", "worker"]);
        let ids: Vec<&str> = shop.containers.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, vec!["new", "old", "w2", "w10", "wk"]);
        assert_eq!((shop.lines_per_minute.len(), shop.errors_per_minute.len()), (60, 60));
    }
}
