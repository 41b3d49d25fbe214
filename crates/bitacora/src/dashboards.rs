//! Wiring of dashboards and data sources: both read the Grafana provisioning directory
//! (`dashboards.provisioning_dir`) and keep re-reading it; the built-in data source is answered
//! by the API router itself (with the caller's credentials), the built-in "Overview of
//! Bitácora" dashboard follows the first Prometheus data source, and both rooms' routes go
//! behind the API's access rules.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

/// `dashboards:` in the configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DashboardsConfig {
    /// A Grafana provisioning directory (`datasources/*.yml`, `dashboards/*.yml`); empty: none.
    pub provisioning_dir: PathBuf,
}

/// How often the data source files are read again.
const DATASOURCE_POLL: Duration = Duration::from_secs(10);

pub struct DashboardRooms {
    pub datasources: Arc<datasources::DataSources>,
    pub dashboards: Arc<dashboards::Dashboards>,
    provisioning_dir: Option<PathBuf>,
}

impl DashboardRooms {
    /// Loads stored dashboards and provisioned data sources (problems are logged by file).
    pub fn new(cfg: &crate::config::Config, registry: &mut Registry) -> anyhow::Result<DashboardRooms> {
        let dir = &cfg.dashboards.provisioning_dir;
        let provisioning_dir = (!dir.as_os_str().is_empty()).then(|| dir.clone());
        if let Some(d) = &provisioning_dir
            && !d.is_dir()
        {
            tracing::warn!(dir = %d.display(), "dashboards.provisioning_dir is not a directory (yet); it is read again every 10 s");
        }
        let datasources = datasources::DataSources::new(provisioning_dir.clone(), registry);
        let dashboards = Arc::new(dashboards::Dashboards::open(&cfg.data_dir, registry).map_err(|e| {
            anyhow::anyhow!("cannot open the dashboards directory {}: {e}", cfg.data_dir.join("dashboards").display())
        })?);
        dashboards.set_builtin(datasources.first_prometheus().map(|d| d.uid).as_deref());
        Ok(DashboardRooms { datasources, dashboards, provisioning_dir })
    }

    /// Both rooms' routes; `createdBy`/`updatedBy` is the authenticated principal's name
    /// (`admin` with access rules off), and only the admin scope may save.
    pub fn routes(&self) -> axum::Router {
        let user_of: dashboards::UserOf =
            Arc::new(|parts: &axum::http::request::Parts| match parts.extensions.get::<auth::Principal>() {
                Some(p) => dashboards::Caller {
                    name: if p.name.is_empty() { "admin".into() } else { p.name.clone() },
                    can_write: p.scopes.admin,
                },
                None => dashboards::Caller { name: "anonymous".into(), can_write: false },
            });
        self.datasources.router().merge(self.dashboards.router(user_of))
    }

    /// Hands the finished API router to the built-in data source and starts re-reading the
    /// provisioning directory.
    pub fn start(&self, app: axum::Router) -> Vec<tokio::task::JoinHandle<()>> {
        self.datasources.set_local(app);
        let Some(dir) = self.provisioning_dir.clone() else { return Vec::new() };
        let provisioner = dashboards::Provisioner::new(dir, self.dashboards.clone()).spawn();
        let (ds, dash) = (self.datasources.clone(), self.dashboards.clone());
        let poll = tokio::spawn(async move {
            loop {
                tokio::time::sleep(DATASOURCE_POLL).await;
                let ds2 = ds.clone();
                if tokio::task::spawn_blocking(move || ds2.reload()).await.unwrap_or(false) {
                    dash.set_builtin(ds.first_prometheus().map(|d| d.uid).as_deref());
                }
            }
        });
        vec![provisioner, poll]
    }
}
