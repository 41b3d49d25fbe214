//! Grafana's data source provisioning files: every `*.yml`/`*.yaml` in a directory, each
//! `apiVersion: 1` with a `datasources:` list, environment variables expanded first as Grafana
//! does. A bad file or entry is reported by name and skipped; the others still load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::source::{DataSource, Kind};

#[derive(Deserialize)]
struct File {
    #[serde(rename = "apiVersion", default)]
    api_version: Option<Value>,
    #[serde(default)]
    datasources: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(default)]
    name: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    uid: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    is_default: bool,
    #[serde(default)]
    basic_auth: bool,
    #[serde(default)]
    basic_auth_user: String,
    #[serde(default)]
    json_data: Option<Map<String, Value>>,
    #[serde(default)]
    secure_json_data: Option<BTreeMap<String, Value>>,
}

/// What a directory declares: data sources (ids not yet assigned) and problems, each naming its
/// file.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: Vec<DataSource>,
    pub problems: Vec<String>,
}

/// The YAML files of `dir`, sorted by name; none when it does not exist.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

/// Reads every provisioning file of `dir`.
pub fn load_dir(dir: &Path) -> Loaded {
    let mut out = Loaded::default();
    for f in yaml_files(dir) {
        match std::fs::read_to_string(&f) {
            Ok(text) => parse(&f.display().to_string(), &text, &mut out),
            Err(e) => out.problems.push(format!("{}: {e}", f.display())),
        }
    }
    out
}

/// Parses one file's text into `out`.
pub fn parse(file: &str, text: &str, out: &mut Loaded) {
    let text = model::envexpand::expand(text);
    let parsed: File = match serde_saphyr::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            out.problems.push(format!("{file}: {e}"));
            return;
        }
    };
    if let Some(v) = &parsed.api_version
        && v.as_i64() != Some(1)
        && v.as_str() != Some("1")
    {
        out.problems.push(format!("{file}: apiVersion {v} is not supported (only 1)"));
        return;
    }
    for (i, e) in parsed.datasources.into_iter().enumerate() {
        let at = if e.name.is_empty() { format!("{file}: datasources[{i}]") } else { format!("{file}: {:?}", e.name) };
        if e.name.is_empty() {
            out.problems.push(format!("{at}: a data source needs a name"));
            continue;
        }
        let Some(kind) = Kind::parse(&e.kind) else {
            out.problems.push(format!("{at}: type {:?} is not supported (prometheus or loki); skipped", e.kind));
            continue;
        };
        if !(e.url.starts_with("http://") || e.url.starts_with("https://")) {
            out.problems.push(format!("{at}: url {:?} must start with http:// or https://", e.url));
            continue;
        }
        let uid = if e.uid.is_empty() { uid_from_name(&e.name) } else { e.uid };
        if uid == crate::BUILTIN_UID {
            out.problems.push(format!("{at}: uid {uid:?} is the built-in data source's"));
            continue;
        }
        if out.sources.iter().any(|s| s.uid == uid || s.name == e.name) {
            out.problems.push(format!("{at}: another data source has uid {uid:?} or this name; skipped"));
            continue;
        }
        let secure = e
            .secure_json_data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
            .collect();
        out.sources.push(DataSource {
            id: 0,
            uid,
            name: e.name,
            kind,
            url: e.url,
            is_default: e.is_default,
            basic_auth: e.basic_auth,
            basic_auth_user: e.basic_auth_user,
            json_data: e.json_data.unwrap_or_default(),
            secure_json_data: secure,
            builtin: false,
        });
    }
}

/// A stable uid for a data source provisioned without one.
fn uid_from_name(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(40).collect();
    format!("ds-{}", s.trim_matches('-'))
}
