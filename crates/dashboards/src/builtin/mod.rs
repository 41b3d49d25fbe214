//! The built-in dashboards, embedded in the binary and shown read-only in the folder
//! "Bitácora": "Dokku host" over the built-in data source, always; "Overview of Bitácora" over a
//! Prometheus data source, only while one is configured (its uid put in place of
//! `${DS_PROMETHEUS}`).

use serde_json::Value;

use crate::record::Provisioned;
use crate::store::{Dashboards, Item};

const DOKKU: &str = include_str!("dokku.json");
const OVERVIEW: &str = include_str!("overview.json");

/// The folder they are shown in.
pub const FOLDER_UID: &str = "bitacora";
pub const FOLDER_TITLE: &str = "Bitácora";

const OWNER: &str = "builtin";

fn item(name: &str, text: &str) -> Option<Item> {
    let data: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(dashboard = name, error = %e, "a built-in dashboard does not parse");
            return None;
        }
    };
    Some(Item {
        data,
        folder: Some((FOLDER_UID.into(), FOLDER_TITLE.into())),
        provisioned: Provisioned {
            provider: OWNER.into(),
            external_id: format!("builtin:{name}"),
            allow_ui_updates: false,
        },
        hash: {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            text.hash(&mut h);
            h.finish()
        },
    })
}

impl Dashboards {
    /// Puts the built-in dashboards in force; the overview only with `prometheus_uid`.
    pub fn set_builtin(&self, prometheus_uid: Option<&str>) {
        let mut items: Vec<Item> = item("dokku.json", DOKKU).into_iter().collect();
        if let Some(uid) = prometheus_uid {
            let text = OVERVIEW.replace("${DS_PROMETHEUS}", uid);
            items.extend(item("overview.json", &text));
        }
        self.provision(OWNER, items);
    }
}
