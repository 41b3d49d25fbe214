//! The dashboard files of a provider: where its `options.path` is, and the `*.json` files under
//! it (read, checked, with the folder each goes to).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::providers::Provider;
use crate::record::Provisioned;
use crate::store::Item;

/// Directories deeper than this under a provider's path are not read.
const MAX_DEPTH: usize = 8;
/// Files one provider may provision.
const MAX_FILES: usize = 5000;

/// Where `path` is: as Grafana resolves it (absolute, or relative to the working directory),
/// else, for a path written for Grafana's own tree (say `/etc/grafana/provisioning/dashboards`
/// or `/var/lib/grafana/dashboards`), the longest tail of it that exists under the provisioning
/// directory or beside it.
pub fn resolve(path: &str, provisioning_dir: &Path) -> Option<PathBuf> {
    let p = Path::new(path);
    if p.exists() {
        return Some(p.to_path_buf());
    }
    let comps: Vec<_> = p.components().filter(|c| matches!(c, std::path::Component::Normal(_))).collect();
    let bases = [Some(provisioning_dir), provisioning_dir.parent()];
    for skip in 0..comps.len() {
        let tail: PathBuf = comps[skip..].iter().collect();
        for b in bases.iter().flatten() {
            let cand = b.join(&tail);
            if cand.exists() {
                return Some(cand);
            }
        }
    }
    None
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if out.len() >= MAX_FILES {
            return;
        }
        let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() && depth < MAX_DEPTH {
            walk(&p, depth + 1, out);
        } else if p.is_file() && p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// The dashboards of `prov`; a file that cannot be used is a problem naming it.
pub fn scan(prov: &Provider, provisioning_dir: &Path, problems: &mut Vec<String>) -> Vec<Item> {
    let Some(root) = resolve(&prov.path, provisioning_dir) else {
        problems.push(format!(
            "{}: provider {:?}: options.path {:?} does not exist (nor under {})",
            prov.file,
            prov.name,
            prov.path,
            provisioning_dir.display()
        ));
        return Vec::new();
    };
    let mut files = Vec::new();
    if root.is_file() {
        files.push(root.clone());
    } else {
        walk(&root, 0, &mut files);
    }
    let provider_folder = (!prov.folder.is_empty()).then(|| {
        let uid =
            if prov.folder_uid.is_empty() { crate::slug::uid_from(&prov.folder) } else { prov.folder_uid.clone() };
        (uid, prov.folder.clone())
    });
    let mut items = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let bytes = match std::fs::metadata(&f) {
            Ok(m) if m.len() as usize > crate::MAX_DASHBOARD_BYTES => {
                problems.push(format!("{name}: larger than {} MiB", crate::MAX_DASHBOARD_BYTES >> 20));
                continue;
            }
            _ => match std::fs::read(&f) {
                Ok(b) => b,
                Err(e) => {
                    problems.push(format!("{name}: {e}"));
                    continue;
                }
            },
        };
        let mut data: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{name}: invalid JSON: {e}"));
                continue;
            }
        };
        // An export wrapped as `{"dashboard": {...}}`.
        if data.get("title").is_none()
            && let Some(inner) = data.get("dashboard").filter(|d| d.is_object())
        {
            data = inner.clone();
        }
        let Some(obj) = data.as_object_mut() else {
            problems.push(format!("{name}: a dashboard file must hold a JSON object"));
            continue;
        };
        if obj.get("title").and_then(Value::as_str).is_none_or(|t| t.trim().is_empty()) {
            problems.push(format!("{name}: the dashboard has no title"));
            continue;
        }
        let uid = match obj.get("uid").and_then(Value::as_str) {
            Some(u) if !u.is_empty() => u.to_string(),
            _ => format!("p{:x}", hash(format!("{}\0{}", prov.name, name).as_bytes())),
        };
        if let Err(m) = crate::slug::check_uid(&uid) {
            problems.push(format!("{name}: dashboard {m}"));
            continue;
        }
        obj.insert("uid".into(), Value::from(uid));
        obj.remove("id");
        let folder = if prov.folders_from_files_structure && f.parent() != Some(root.as_path()) && root.is_dir() {
            f.parent()
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str())
                .map(|t| (crate::slug::uid_from(t), t.to_string()))
        } else {
            provider_folder.clone()
        };
        items.push(Item {
            data,
            folder,
            provisioned: Provisioned {
                provider: format!("file/{}", prov.name),
                external_id: name,
                allow_ui_updates: prov.allow_ui_updates,
            },
            hash: hash(&bytes) ^ u64::from(prov.allow_ui_updates),
        });
    }
    items
}
