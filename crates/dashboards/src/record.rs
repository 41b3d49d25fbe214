//! What is kept of a dashboard and a folder: the dashboard's current JSON, who made it and
//! when, its last versions, and where it came from when provisioned.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One saved version of a dashboard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    pub version: i64,
    pub parent_version: i64,
    pub created: String,
    pub created_by: String,
    pub message: String,
    pub data: Value,
}

/// Where a provisioned dashboard came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// The provider's name (`bitacora` for the built-in dashboards).
    pub provider: String,
    /// The file it was read from (Grafana's `provisionedExternalId`).
    pub external_id: String,
    pub allow_ui_updates: bool,
}

/// A dashboard: its current JSON (`data`, with `id`, `uid` and `version` set) and history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: i64,
    pub uid: String,
    #[serde(default)]
    pub folder_uid: String,
    pub version: i64,
    pub created: String,
    pub updated: String,
    pub created_by: String,
    pub updated_by: String,
    pub data: Value,
    /// Oldest first, the current one last.
    pub versions: VecDeque<Version>,
    #[serde(skip)]
    pub provisioned: Option<Provisioned>,
    /// A hash of the provisioned file's content, to tell a changed file.
    #[serde(skip)]
    pub source_hash: u64,
}

impl Record {
    pub fn title(&self) -> &str {
        self.data.get("title").and_then(Value::as_str).unwrap_or("")
    }

    pub fn slug(&self) -> String {
        crate::slug::slugify(self.title())
    }

    pub fn url(&self) -> String {
        format!("/d/{}/{}", self.uid, self.slug())
    }

    pub fn tags(&self) -> Vec<String> {
        match self.data.get("tags") {
            Some(Value::Array(a)) => a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the UI may save it.
    pub fn can_save(&self) -> bool {
        self.provisioned.as_ref().is_none_or(|p| p.allow_ui_updates)
    }
}

/// A folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Folder {
    pub id: i64,
    pub uid: String,
    pub title: String,
    /// Made by provisioning or built in: not stored, gone when nothing provisions it.
    #[serde(skip)]
    pub provisioned: bool,
}

impl Folder {
    pub fn url(&self) -> String {
        format!("/dashboards/f/{}/{}", self.uid, crate::slug::slugify(&self.title))
    }

    pub fn to_json(&self) -> Value {
        serde_json::json!({ "id": self.id, "uid": self.uid, "title": self.title, "url": self.url() })
    }
}
