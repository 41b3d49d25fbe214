//! Rule files on disk, Loki's local ruler layout: `<rules_dir>/<tenant>/<namespace>.yaml`,
//! each holding `groups:`. Writes are atomic (temporary file, then rename).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::file::{RuleFile, RuleGroup, parse_file, to_yaml};
use crate::validate::validate_file;

/// Every tenant's namespaces.
pub type AllRules = BTreeMap<String, BTreeMap<String, RuleFile>>;

pub struct RuleStore {
    dir: PathBuf,
}

/// Refuses names that could leave the rules directory or hide a file.
pub fn check_name(what: &str, s: &str) -> Result<(), String> {
    if s.is_empty() || s.starts_with('.') || s.contains(['/', '\\', '\0']) || s.len() > 200 {
        return Err(format!(
            "invalid {what} {s:?}: it must be non-empty, at most 200 bytes, without '/', '\\' and not start with '.'"
        ));
    }
    Ok(())
}

impl RuleStore {
    pub fn new(dir: PathBuf) -> Self {
        RuleStore { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, tenant: &str, ns: &str) -> PathBuf {
        self.dir.join(tenant).join(format!("{ns}.yaml"))
    }

    /// Reads every valid namespace file; each unreadable or invalid one is returned as an
    /// error message (and left out) so one bad file does not stop the others.
    pub fn load_all(&self) -> (AllRules, Vec<String>) {
        let mut all = AllRules::new();
        let mut errors = Vec::new();
        let Ok(tenants) = std::fs::read_dir(&self.dir) else { return (all, errors) };
        for t in tenants.flatten() {
            let Ok(tenant) = t.file_name().into_string() else { continue };
            if !t.path().is_dir() || check_name("tenant", &tenant).is_err() {
                continue;
            }
            let (files, errs) = self.load_tenant(&tenant);
            errors.extend(errs);
            if !files.is_empty() {
                all.insert(tenant, files);
            }
        }
        (all, errors)
    }

    /// One tenant's valid namespace files, and the errors of the others.
    pub fn load_tenant(&self, tenant: &str) -> (BTreeMap<String, RuleFile>, Vec<String>) {
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        let Ok(files) = std::fs::read_dir(self.dir.join(tenant)) else { return (out, errors) };
        for f in files.flatten() {
            let p = f.path();
            let Some(ns) = p.file_stem().and_then(|s| s.to_str()).map(str::to_string) else { continue };
            if !matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) || ns.starts_with('.') {
                continue;
            }
            let parsed = std::fs::read_to_string(&p)
                .map_err(|e| e.to_string())
                .and_then(|text| parse_file(&text))
                .and_then(|file| validate_file(&ns, &file).map(|_| file));
            match parsed {
                Ok(file) if !file.groups.is_empty() => {
                    out.insert(ns, file);
                }
                Ok(_) => {}
                Err(e) => errors.push(format!("rule file {}: {e}", p.display())),
            }
        }
        (out, errors)
    }

    /// Writes (or, without groups, removes) a namespace file.
    pub fn write_namespace(&self, tenant: &str, ns: &str, file: &RuleFile) -> std::io::Result<()> {
        let path = self.path(tenant, ns);
        if file.groups.is_empty() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        write_atomic(&path, to_yaml(file).as_bytes())
    }

    /// Adds or replaces (by name) one group of a namespace, returning the new file.
    pub fn merged(current: Option<&RuleFile>, group: RuleGroup) -> RuleFile {
        let mut file = current.cloned().unwrap_or_default();
        match file.groups.iter_mut().find(|g| g.name == group.name) {
            Some(g) => *g = group,
            None => file.groups.push(group),
        }
        file
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("file")));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::parse_group;

    #[test]
    fn writes_loads_and_skips_bad_files() {
        let d = tempfile::tempdir().unwrap();
        let s = RuleStore::new(d.path().to_path_buf());
        let g = parse_group("name: g\nrules:\n- alert: A\n  expr: vector(1)\n").unwrap();
        s.write_namespace("t1", "ns", &RuleStore::merged(None, g)).unwrap();
        std::fs::write(d.path().join("t1/bad.yaml"), "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: 'sum('\n")
            .unwrap();
        let (all, errors) = s.load_all();
        assert_eq!(all["t1"]["ns"].groups[0].rules[0].name(), "A");
        assert!(!all["t1"].contains_key("bad"));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("bad.yaml") && errors[0].contains("parse error"), "{errors:?}");
        s.write_namespace("t1", "ns", &RuleFile::default()).unwrap();
        assert!(!d.path().join("t1/ns.yaml").exists());
        assert!(check_name("namespace", "../x").is_err());
        assert!(check_name("namespace", ".hidden").is_err());
    }
}
