//! The dashboards' metrics: how many dashboards and folders are in force, saves, storage
//! failures, and provisioning's runs and problems.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

pub struct Metrics {
    pub dashboards: Gauge,
    pub folders: Gauge,
    pub saves: Counter,
    pub storage_errors: Counter,
    pub provisioning_runs: Counter,
    pub provisioning_problems: Gauge,
}

impl Metrics {
    pub fn new(r: &mut Registry) -> Metrics {
        let m = Metrics {
            dashboards: Gauge::default(),
            folders: Gauge::default(),
            saves: Counter::default(),
            storage_errors: Counter::default(),
            provisioning_runs: Counter::default(),
            provisioning_problems: Gauge::default(),
        };
        r.register("bitacora_dashboards", "Dashboards in force: saved, provisioned and built in", m.dashboards.clone());
        r.register("bitacora_dashboard_folders", "Dashboard folders", m.folders.clone());
        r.register("bitacora_dashboard_saves", "Dashboards saved through the API", m.saves.clone());
        r.register(
            "bitacora_dashboard_storage_errors",
            "Dashboards or folders that could not be written to or removed from disk",
            m.storage_errors.clone(),
        );
        r.register(
            "bitacora_dashboard_provisioning_runs",
            "Reads of the dashboard provisioning files",
            m.provisioning_runs.clone(),
        );
        r.register(
            "bitacora_dashboard_provisioning_problems",
            "Problems the last read of the dashboard provisioning files found",
            m.provisioning_problems.clone(),
        );
        m
    }
}
