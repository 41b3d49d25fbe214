//! The dashboards and folders in force: stored ones (saved through the API, on disk) and
//! provisioned ones (from files or built in, in memory only), with Grafana's save rules: version
//! check, title unique in its folder, provisioned dashboards read-only unless allowed.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;

use parking_lot::RwLock;
use prometheus_client::registry::Registry;
use serde_json::Value;

use crate::disk::Disk;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::record::{Folder, Provisioned, Record, Version};

/// The body of `POST /api/dashboards/db`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaveRequest {
    pub dashboard: Value,
    #[serde(default)]
    pub folder_uid: Option<String>,
    /// Grafana's older numeric folder id; 0 is the General folder.
    #[serde(default)]
    pub folder_id: Option<i64>,
    #[serde(default)]
    pub overwrite: bool,
    #[serde(default)]
    pub message: Option<String>,
}

/// The answer to a save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub id: i64,
    pub uid: String,
    pub version: i64,
    pub slug: String,
    pub url: String,
}

/// A provisioned dashboard to put in force.
#[derive(Debug, Clone)]
pub struct Item {
    pub data: Value,
    pub folder: Option<(String, String)>,
    pub provisioned: Provisioned,
    pub hash: u64,
}

pub(crate) struct State {
    pub dashboards: HashMap<String, Record>,
    pub folders: BTreeMap<String, Folder>,
    next_id: i64,
}

/// Every dashboard and folder.
pub struct Dashboards {
    disk: Disk,
    pub(crate) state: RwLock<State>,
    pub(crate) metrics: Metrics,
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

impl Dashboards {
    /// Opens `<data_dir>/dashboards` and loads what is stored.
    pub fn open(data_dir: &std::path::Path, registry: &mut Registry) -> std::io::Result<Dashboards> {
        let disk = Disk::open(data_dir.join("dashboards"))?;
        let (records, folders) = disk.load();
        let next_id = records.iter().map(|r| r.id).chain(folders.iter().map(|f| f.id)).max().unwrap_or(0) + 1;
        let d = Dashboards {
            disk,
            state: RwLock::new(State {
                dashboards: records.into_iter().map(|r| (r.uid.clone(), r)).collect(),
                folders: folders.into_iter().map(|f| (f.uid.clone(), f)).collect(),
                next_id,
            }),
            metrics: Metrics::new(registry),
        };
        d.update_gauges();
        tracing::info!(dashboards = d.state.read().dashboards.len(), dir = %d.dir().display(), "dashboards loaded");
        Ok(d)
    }

    pub fn dir(&self) -> PathBuf {
        self.disk.dir.clone()
    }

    fn update_gauges(&self) {
        let s = self.state.read();
        self.metrics.dashboards.set(s.dashboards.len() as i64);
        self.metrics.folders.set(s.folders.len() as i64);
    }

    /// A dashboard by uid.
    pub fn get(&self, uid: &str) -> Option<Record> {
        self.state.read().dashboards.get(uid).cloned()
    }

    pub fn folder(&self, uid: &str) -> Option<Folder> {
        self.state.read().folders.get(uid).cloned()
    }

    pub fn folders(&self) -> Vec<Folder> {
        let mut f: Vec<Folder> = self.state.read().folders.values().cloned().collect();
        f.sort_by_key(|f| f.title.to_lowercase());
        f
    }

    /// Saves as `POST /api/dashboards/db` does.
    pub fn save(&self, req: SaveRequest, user: &str) -> Result<Saved, Error> {
        let Value::Object(mut dash) = req.dashboard else {
            return Err(Error::BadRequest("\"dashboard\" must be a JSON object (the dashboard's model)".into()));
        };
        let title = match dash.get("title") {
            Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_string(),
            _ => return Err(Error::BadRequest("Dashboard title cannot be empty".into())),
        };
        let mut s = self.state.write();
        let uid = match dash.get("uid") {
            Some(Value::String(u)) if !u.is_empty() => u.clone(),
            None | Some(Value::Null) | Some(Value::String(_)) => crate::slug::new_uid(),
            Some(other) => return Err(Error::BadRequest(format!("dashboard uid must be a string, not {other}"))),
        };
        crate::slug::check_uid(&uid).map_err(|m| Error::BadRequest(format!("dashboard {m}")))?;
        let folder_uid = match (req.folder_uid, req.folder_id) {
            (Some(f), _) if f != "general" => f,
            (None, Some(id)) if id != 0 => match s.folders.values().find(|f| f.id == id) {
                Some(f) => f.uid.clone(),
                None => return Err(Error::BadRequest(format!("folder id {id} not found"))),
            },
            _ => String::new(),
        };
        if !folder_uid.is_empty() && !s.folders.contains_key(&folder_uid) {
            return Err(Error::BadRequest(format!("folder {folder_uid:?} not found")));
        }
        let existing = s.dashboards.get(&uid);
        if let Some(e) = existing {
            if !e.can_save() {
                return Err(Error::Provisioned("Cannot save provisioned dashboard"));
            }
            let given = dash.get("version").and_then(Value::as_i64).unwrap_or(0);
            if !req.overwrite && given != e.version {
                return Err(Error::VersionMismatch);
            }
        }
        if !req.overwrite
            && s.dashboards
                .values()
                .any(|o| o.uid != uid && o.folder_uid == folder_uid && o.title().trim().eq_ignore_ascii_case(&title))
        {
            return Err(Error::NameExists);
        }
        let at = now();
        let (id, version, created, created_by, mut versions, provisioned, hash) = match s.dashboards.get(&uid) {
            Some(e) => (
                e.id,
                e.version + 1,
                e.created.clone(),
                e.created_by.clone(),
                e.versions.clone(),
                e.provisioned.clone(),
                e.source_hash,
            ),
            None => {
                let id = s.next_id;
                s.next_id += 1;
                (id, 1, at.clone(), user.to_string(), VecDeque::new(), None, 0)
            }
        };
        dash.insert("id".into(), Value::from(id));
        dash.insert("uid".into(), Value::from(uid.clone()));
        dash.insert("version".into(), Value::from(version));
        let data = Value::Object(dash);
        versions.push_back(Version {
            version,
            parent_version: version - 1,
            created: at.clone(),
            created_by: user.to_string(),
            message: req.message.unwrap_or_default(),
            data: data.clone(),
        });
        while versions.len() > crate::KEEP_VERSIONS {
            versions.pop_front();
        }
        let rec = Record {
            id,
            uid: uid.clone(),
            folder_uid,
            version,
            created,
            updated: at,
            created_by,
            updated_by: user.to_string(),
            data,
            versions,
            provisioned,
            source_hash: hash,
        };
        if rec.provisioned.is_none() {
            self.disk.save(&rec).map_err(|e| self.storage_error("save", &uid, e))?;
        }
        let saved = Saved { id, uid: uid.clone(), version, slug: rec.slug(), url: rec.url() };
        s.dashboards.insert(uid, rec);
        drop(s);
        self.metrics.saves.inc();
        self.update_gauges();
        Ok(saved)
    }

    fn storage_error(&self, what: &str, uid: &str, e: std::io::Error) -> Error {
        tracing::error!(uid, error = %e, dir = %self.disk.dir.display(), "cannot {what} a dashboard");
        self.metrics.storage_errors.inc();
        Error::Storage(format!("cannot {what} dashboard {uid:?} in {}: {e}", self.disk.dir.display()))
    }

    /// Removes a stored dashboard; provisioned ones cannot be.
    pub fn delete(&self, uid: &str) -> Result<Record, Error> {
        let mut s = self.state.write();
        let Some(r) = s.dashboards.get(uid) else { return Err(Error::NotFound("Dashboard")) };
        if r.provisioned.is_some() {
            return Err(Error::Provisioned("Dashboard cannot be deleted because it was provisioned"));
        }
        self.disk.remove(uid).map_err(|e| self.storage_error("delete", uid, e))?;
        let r = s.dashboards.remove(uid).ok_or(Error::NotFound("Dashboard"))?;
        drop(s);
        self.update_gauges();
        Ok(r)
    }

    /// Saves version `version`'s content again as a new version.
    pub fn restore(&self, uid: &str, version: i64, user: &str) -> Result<Saved, Error> {
        let r = self.get(uid).ok_or(Error::NotFound("Dashboard"))?;
        let v = r.versions.iter().find(|v| v.version == version).ok_or(Error::NotFound("Dashboard version"))?;
        let mut data = v.data.clone();
        if let Value::Object(o) = &mut data {
            o.insert("version".into(), Value::from(r.version));
        }
        let req = SaveRequest {
            dashboard: data,
            folder_uid: Some(r.folder_uid.clone()),
            folder_id: None,
            overwrite: true,
            message: Some(format!("Restored from version {version}")),
        };
        self.save(req, user)
    }

    /// Creates a folder (`POST /api/folders`).
    pub fn create_folder(&self, title: &str, uid: Option<&str>) -> Result<Folder, Error> {
        let title = title.trim();
        if title.is_empty() {
            return Err(Error::BadRequest("folder title cannot be empty".into()));
        }
        let uid = match uid {
            Some(u) if !u.is_empty() => u.to_string(),
            _ => crate::slug::new_uid(),
        };
        crate::slug::check_uid(&uid).map_err(|m| Error::BadRequest(format!("folder {m}")))?;
        let mut s = self.state.write();
        if s.folders.contains_key(&uid) {
            return Err(Error::FolderExists(format!("a folder with uid {uid:?} already exists")));
        }
        if s.folders.values().any(|f| f.title.eq_ignore_ascii_case(title)) {
            return Err(Error::FolderExists(format!("a folder named {title:?} already exists")));
        }
        let f = Folder { id: s.next_id, uid: uid.clone(), title: title.to_string(), provisioned: false };
        s.next_id += 1;
        s.folders.insert(uid, f.clone());
        let stored: Vec<&Folder> = s.folders.values().filter(|f| !f.provisioned).collect();
        if let Err(e) = self.disk.save_folders(&stored) {
            s.folders.remove(&f.uid);
            return Err(self.storage_error("save the folders with", &f.uid, e));
        }
        drop(s);
        self.update_gauges();
        Ok(f)
    }

    /// Removes an empty stored folder.
    pub fn delete_folder(&self, uid: &str) -> Result<Folder, Error> {
        let mut s = self.state.write();
        let Some(f) = s.folders.get(uid).cloned() else { return Err(Error::NotFound("Folder")) };
        if f.provisioned {
            return Err(Error::Provisioned("Folder cannot be deleted because it was provisioned"));
        }
        if s.dashboards.values().any(|d| d.folder_uid == uid) {
            return Err(Error::BadRequest(format!(
                "folder {:?} is not empty: move or delete its dashboards first",
                f.title
            )));
        }
        s.folders.remove(uid);
        let stored: Vec<&Folder> = s.folders.values().filter(|f| !f.provisioned).collect();
        self.disk.save_folders(&stored).map_err(|e| self.storage_error("save the folders without", uid, e))?;
        drop(s);
        self.update_gauges();
        Ok(f)
    }

    /// Puts in force the dashboards `owner` provisions (a file provider set, or the built-in
    /// ones): new ones added, changed ones saved as a new version, the rest of `owner`'s removed.
    /// Returns (added, changed, removed).
    pub fn provision(&self, owner: &str, items: Vec<Item>) -> (usize, usize, usize) {
        let owned = |p: &Provisioned| p.provider == owner || p.provider.starts_with(&format!("{owner}/"));
        let mut s = self.state.write();
        let (mut added, mut changed) = (0, 0);
        let mut keep = std::collections::HashSet::new();
        for it in items {
            let Some(uid) = it.data.get("uid").and_then(Value::as_str).map(str::to_string) else { continue };
            if !keep.insert(uid.clone()) {
                tracing::warn!(uid, file = %it.provisioned.external_id, "two provisioned dashboards have this uid; the second is skipped");
                continue;
            }
            let folder_uid = match &it.folder {
                Some((fuid, title)) => match s.folders.values().find(|f| f.title == *title || f.uid == *fuid) {
                    Some(f) => f.uid.clone(),
                    None => {
                        let f = Folder { id: s.next_id, uid: fuid.clone(), title: title.clone(), provisioned: true };
                        s.next_id += 1;
                        s.folders.insert(fuid.clone(), f);
                        fuid.clone()
                    }
                },
                None => String::new(),
            };
            match s.dashboards.get(&uid) {
                Some(e) if e.provisioned.is_some() && e.source_hash == it.hash && e.folder_uid == folder_uid => {
                    continue;
                }
                Some(e) if e.provisioned.is_none() => {
                    tracing::warn!(uid, file = %it.provisioned.external_id, "a saved dashboard has this uid; the provisioned one is skipped");
                    continue;
                }
                _ => {}
            }
            let at = now();
            let prev = s.dashboards.get(&uid).cloned();
            let (id, version, mut versions, created) = match &prev {
                Some(p) => (p.id, p.version + 1, p.versions.clone(), p.created.clone()),
                None => {
                    s.next_id += 1;
                    (s.next_id - 1, 1, VecDeque::new(), at.clone())
                }
            };
            let mut data = it.data;
            if let Value::Object(o) = &mut data {
                o.insert("id".into(), Value::from(id));
                o.insert("version".into(), Value::from(version));
            }
            versions.push_back(Version {
                version,
                parent_version: version - 1,
                created: at.clone(),
                created_by: "provisioning".into(),
                message: format!("provisioned from {}", it.provisioned.external_id),
                data: data.clone(),
            });
            while versions.len() > crate::KEEP_VERSIONS {
                versions.pop_front();
            }
            if prev.is_some() {
                changed += 1
            } else {
                added += 1
            }
            s.dashboards.insert(
                uid.clone(),
                Record {
                    id,
                    uid,
                    folder_uid,
                    version,
                    created,
                    updated: at,
                    created_by: "provisioning".into(),
                    updated_by: "provisioning".into(),
                    data,
                    versions,
                    provisioned: Some(it.provisioned),
                    source_hash: it.hash,
                },
            );
        }
        let before = s.dashboards.len();
        s.dashboards.retain(|uid, r| keep.contains(uid) || !r.provisioned.as_ref().is_some_and(owned));
        let removed = before - s.dashboards.len();
        // Provisioned folders nothing is in any more.
        let used: std::collections::HashSet<String> = s.dashboards.values().map(|d| d.folder_uid.clone()).collect();
        s.folders.retain(|uid, f| !f.provisioned || used.contains(uid));
        drop(s);
        self.update_gauges();
        (added, changed, removed)
    }
}
