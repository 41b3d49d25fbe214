//! The data sources in force: the built-in one plus the provisioned ones, replaced as a whole
//! when the provisioning directory changes (ids stay with their uid), and the handle on the
//! router that serves the built-in one in process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use prometheus_client::registry::Registry;

use crate::metrics::Metrics;
use crate::source::{DataSource, Kind};

/// The built-in data source's uid.
pub const BUILTIN_UID: &str = "bitacora";

/// Every data source, shared by the routes and the proxy.
pub struct DataSources {
    /// `<provisioning_dir>/datasources`, if a provisioning directory is configured.
    dir: Option<PathBuf>,
    list: RwLock<Arc<Vec<DataSource>>>,
    ids: Mutex<HashMap<String, i64>>,
    /// The file contents last read, to reload only on a change.
    seen: Mutex<Vec<(PathBuf, Option<std::time::SystemTime>, u64)>>,
    pub(crate) local: OnceLock<axum::Router>,
    pub(crate) client: reqwest::Client,
    pub(crate) metrics: Metrics,
}

impl DataSources {
    /// Reads `<provisioning_dir>/datasources/*.yml` (problems are logged with their file).
    pub fn new(provisioning_dir: Option<PathBuf>, registry: &mut Registry) -> Arc<DataSources> {
        let ds = Arc::new(DataSources {
            dir: provisioning_dir.map(|d| d.join("datasources")),
            list: RwLock::new(Arc::new(vec![DataSource::builtin()])),
            ids: Mutex::new(HashMap::from([(BUILTIN_UID.to_string(), 1)])),
            seen: Mutex::new(Vec::new()),
            local: OnceLock::new(),
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            metrics: Metrics::new(registry),
        });
        ds.reload();
        ds
    }

    /// The router that answers the built-in data source's queries (the API's, with its access
    /// rules); set once by the binary after building it.
    pub fn set_local(&self, router: axum::Router) {
        let _ = self.local.set(router);
    }

    /// All data sources, the built-in one first.
    pub fn all(&self) -> Arc<Vec<DataSource>> {
        self.list.read().clone()
    }

    pub fn by_uid(&self, uid: &str) -> Option<DataSource> {
        self.all().iter().find(|d| d.uid == uid).cloned()
    }

    pub fn by_name(&self, name: &str) -> Option<DataSource> {
        self.all().iter().find(|d| d.name == name).cloned()
    }

    pub fn by_id(&self, id: i64) -> Option<DataSource> {
        self.all().iter().find(|d| d.id == id).cloned()
    }

    /// The first Prometheus data source (the default one if it is Prometheus).
    pub fn first_prometheus(&self) -> Option<DataSource> {
        let all = self.all();
        let mut p = all.iter().filter(|d| d.kind == Kind::Prometheus);
        let first = p.clone().next().cloned();
        p.find(|d| d.is_default).cloned().or(first)
    }

    /// Re-reads the provisioning directory if any file changed (or appeared, or went away).
    /// Returns whether the set changed.
    pub fn reload(&self) -> bool {
        let Some(dir) = &self.dir else { return false };
        let files = crate::provisioning::yaml_files(dir);
        let stamp: Vec<_> = files
            .iter()
            .map(|f| {
                let m = std::fs::metadata(f).ok();
                (f.clone(), m.as_ref().and_then(|m| m.modified().ok()), m.map_or(0, |m| m.len()))
            })
            .collect();
        {
            let mut seen = self.seen.lock();
            if *seen == stamp && !seen.is_empty() {
                return false;
            }
            *seen = stamp;
        }
        let loaded = crate::provisioning::load_dir(dir);
        for p in &loaded.problems {
            tracing::warn!(problem = %p, "data source provisioning");
        }
        self.metrics.provisioning_problems.set(loaded.problems.len() as i64);
        let mut list = vec![DataSource::builtin()];
        let any_default = loaded.sources.iter().any(|s| s.is_default);
        if any_default {
            list[0].is_default = false;
        }
        let mut ids = self.ids.lock();
        let mut default_taken = false;
        for mut s in loaded.sources {
            let next = ids.values().max().copied().unwrap_or(1) + 1;
            s.id = *ids.entry(s.uid.clone()).or_insert(next);
            // Only one default: the first declared.
            s.is_default = s.is_default && !default_taken;
            default_taken |= s.is_default;
            list.push(s);
        }
        let changed = {
            let old = self.list.read();
            old.len() != list.len()
                || old
                    .iter()
                    .zip(&list)
                    .any(|(a, b)| a.to_json() != b.to_json() || a.secure_json_data != b.secure_json_data)
        };
        tracing::info!(count = list.len() - 1, dir = %dir.display(), "data sources provisioned");
        self.metrics.sources.set(list.len() as i64);
        *self.list.write() = Arc::new(list);
        changed
    }

    /// The routes: listing and the proxy.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        crate::http::router(self.clone())
    }
}
