//! Grafana's dashboard provider files (`<provisioning_dir>/dashboards/*.yml`): `apiVersion: 1`,
//! `providers:` with `name`, `folder`, `folderUid`, `type: file`, `allowUiUpdates`,
//! `updateIntervalSeconds` and `options: {path, foldersFromFilesStructure}`, environment
//! variables expanded first as Grafana does.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct File {
    #[serde(rename = "apiVersion", default)]
    api_version: Option<Value>,
    #[serde(default)]
    providers: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(default)]
    name: String,
    #[serde(default)]
    folder: String,
    #[serde(default)]
    folder_uid: String,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    allow_ui_updates: bool,
    #[serde(default)]
    update_interval_seconds: Option<Value>,
    #[serde(default)]
    options: Options,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Options {
    #[serde(default)]
    path: String,
    #[serde(default)]
    folders_from_files_structure: bool,
}

/// One provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub name: String,
    pub folder: String,
    pub folder_uid: String,
    pub allow_ui_updates: bool,
    pub update_interval: Duration,
    /// `options.path` as written.
    pub path: String,
    pub folders_from_files_structure: bool,
    /// The file that declares it.
    pub file: String,
}

/// Parses one provider file; problems name the file and the provider.
pub fn parse(file: &Path, text: &str, problems: &mut Vec<String>) -> Vec<Provider> {
    let name = file.display().to_string();
    let text = model::envexpand::expand(text);
    let parsed: File = match serde_saphyr::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            problems.push(format!("{name}: {e}"));
            return Vec::new();
        }
    };
    if let Some(v) = &parsed.api_version
        && v.as_i64() != Some(1)
        && v.as_str() != Some("1")
    {
        problems.push(format!("{name}: apiVersion {v} is not supported (only 1)"));
        return Vec::new();
    }
    let mut out = Vec::new();
    for (i, e) in parsed.providers.into_iter().enumerate() {
        let at = if e.name.is_empty() {
            format!("{name}: providers[{i}]")
        } else {
            format!("{name}: provider {:?}", e.name)
        };
        if !e.kind.is_empty() && e.kind != "file" {
            problems.push(format!("{at}: type {:?} is not supported (only file)", e.kind));
            continue;
        }
        if e.options.path.is_empty() {
            problems.push(format!("{at}: options.path is empty"));
            continue;
        }
        let secs = match &e.update_interval_seconds {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let update_interval = Duration::from_secs_f64(secs.filter(|s| *s > 0.0).unwrap_or(10.0).clamp(1.0, 86_400.0));
        out.push(Provider {
            name: if e.name.is_empty() { format!("provider-{i}") } else { e.name },
            folder: e.folder,
            folder_uid: e.folder_uid,
            allow_ui_updates: e.allow_ui_updates,
            update_interval,
            path: e.options.path,
            folders_from_files_structure: e.options.folders_from_files_structure,
            file: name.clone(),
        });
    }
    out
}
