//! Provisioning from a Grafana provisioning directory: providers, Grafana-style paths,
//! folders from the file tree, read-only dashboards, bad files named, changes picked up.

use std::sync::Arc;

use dashboards::{Dashboards, Provisioner, SaveRequest};
use prometheus_client::registry::Registry;
use serde_json::json;

fn write(p: &std::path::Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn providers_files_changes_and_read_only() {
    let tmp = tempfile::tempdir().unwrap();
    let prov = tmp.path().join("provisioning");
    let data = tmp.path().join("data");
    // SAFETY: set before any thread of this test reads the environment.
    unsafe { std::env::set_var("DASH_TEST_FOLDER", "Team A") };
    // A path written for Grafana's own tree, resolved under the provisioning directory.
    write(
        &prov.join("dashboards/providers.yml"),
        "apiVersion: 1\nproviders:\n  - name: team\n    folder: ${DASH_TEST_FOLDER}\n    folderUid: team-a\n    type: file\n    updateIntervalSeconds: 1\n    options:\n      path: /etc/grafana/provisioning/dashboards/json\n  - name: tree\n    allowUiUpdates: true\n    options:\n      path: /var/lib/grafana/tree\n      foldersFromFilesStructure: true\n",
    );
    write(&prov.join("dashboards/broken.yaml"), "apiVersion: 1\nproviders: [ {name: x\n");
    write(&prov.join("dashboards/json/a.json"), r#"{"uid": "prov-a", "title": "Provisioned A", "panels": []}"#);
    write(&prov.join("dashboards/json/bad.json"), r#"{"uid": "prov-bad", "title": "#);
    write(&tmp.path().join("tree/sub/b.json"), r#"{"dashboard": {"uid": "prov-b", "title": "Provisioned B"}}"#);
    write(&tmp.path().join("tree/top.json"), r#"{"title": "No uid"}"#);

    let d = Arc::new(Dashboards::open(&data, &mut Registry::default()).unwrap());
    let p = Provisioner::new(prov.clone(), d.clone());
    let rep = p.sync();
    assert_eq!(rep.added, 3, "{rep:?}");
    assert!(rep.problems.iter().any(|m| m.contains("broken.yaml")), "{:?}", rep.problems);
    assert!(rep.problems.iter().any(|m| m.contains("bad.json") && m.contains("invalid JSON")), "{:?}", rep.problems);

    let a = d.get("prov-a").unwrap();
    assert_eq!(a.folder_uid, "team-a");
    assert_eq!(d.folder("team-a").unwrap().title, "Team A");
    let pa = a.provisioned.clone().unwrap();
    assert!(pa.external_id.ends_with("a.json") && !pa.allow_ui_updates);
    let b = d.get("prov-b").unwrap();
    assert_eq!(d.folder(&b.folder_uid).unwrap().title, "sub", "folder from the file tree");
    assert!(d.search(&Default::default()).iter().any(|h| h.title == "No uid" && h.folder_uid.is_none()));

    // Read-only unless allowUiUpdates.
    let save = |data: serde_json::Value| SaveRequest { dashboard: data, overwrite: true, ..Default::default() };
    let err = d.save(save(json!({"uid": "prov-a", "title": "Changed"})), "ann").unwrap_err();
    assert_eq!(err.to_string(), "Cannot save provisioned dashboard");
    assert!(d.delete("prov-a").is_err());
    let mut req = save(json!({"uid": "prov-b", "title": "B from the UI"}));
    req.folder_uid = Some(b.folder_uid.clone());
    let ok = d.save(req, "ann").unwrap();
    assert_eq!(ok.version, 2);

    // Nothing changed: nothing happens (the UI's edit of B stays).
    let rep = p.sync();
    assert_eq!((rep.added, rep.changed, rep.removed), (0, 0, 0));
    assert_eq!(d.get("prov-b").unwrap().title(), "B from the UI");

    // A file changed, one added, one removed.
    write(&prov.join("dashboards/json/a.json"), r#"{"uid": "prov-a", "title": "Provisioned A v2", "panels": []}"#);
    write(&prov.join("dashboards/json/c.json"), r#"{"uid": "prov-c", "title": "Provisioned C"}"#);
    std::fs::remove_file(tmp.path().join("tree/sub/b.json")).unwrap();
    let rep = p.sync();
    assert_eq!((rep.added, rep.changed, rep.removed), (1, 1, 1), "{rep:?}");
    let a = d.get("prov-a").unwrap();
    assert_eq!((a.title(), a.version), ("Provisioned A v2", 2));
    assert!(d.get("prov-b").is_none());
    assert!(d.folder(&b.folder_uid).is_none(), "an emptied provisioned folder goes");

    // The provider file gone: its dashboards go; nothing provisioned is on disk.
    std::fs::remove_file(prov.join("dashboards/providers.yml")).unwrap();
    let rep = p.sync();
    assert_eq!(rep.removed, 3, "{rep:?}");
    let on_disk = std::fs::read_dir(data.join("dashboards")).unwrap().count();
    assert_eq!(on_disk, 0);
}

#[test]
fn builtin_dashboards() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Dashboards::open(tmp.path(), &mut Registry::default()).unwrap();
    d.set_builtin(None);
    let dokku = d.get("bitacora-dokku").unwrap();
    assert_eq!(dokku.title(), "Dokku host");
    assert_eq!(d.folder(&dokku.folder_uid).unwrap().title, "Bitácora");
    assert!(!dokku.can_save());
    assert!(d.get("bitacora-overview").is_none(), "no Prometheus, no overview");
    d.set_builtin(Some("prom1"));
    let ov = d.get("bitacora-overview").unwrap();
    assert_eq!(ov.data["panels"][0]["datasource"]["uid"], "prom1");
    assert!(!ov.data.to_string().contains("DS_PROMETHEUS"));
    d.set_builtin(None);
    assert!(d.get("bitacora-overview").is_none());
    assert_eq!(d.get("bitacora-dokku").unwrap().version, 1, "unchanged built-ins keep their version");
}
