//! The notifier as the binary sees it: built from the settings, started on the runtime,
//! fed alerts (in process or over HTTP), reloaded on SIGHUP, shut down with its state saved.

use std::path::Path;
use std::sync::Arc;

use jiff::Timestamp;
use model::alert::{AlertSink, PostableAlert};
use parking_lot::{Mutex, RwLock};
use prometheus_client::registry::Registry;
use tokio::sync::watch;

use crate::alerts::{AlertStore, validate};
use crate::config::AmConfig;
use crate::dispatch::nflog::NotificationLog;
use crate::metrics::{Metrics, StatusLabel};
use crate::notification::Notification;
use crate::receivers::Integration;
use crate::settings::AlertingConfig;
use crate::silence::Silences;
use crate::state::{Loaded, MAX_ALERTS, Shared};

pub struct Notifier {
    pub(crate) shared: Arc<Shared>,
    cfg: AlertingConfig,
    shutdown: watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// The result of a test notification to one integration.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TestResult {
    #[serde(rename = "type")]
    pub kind: String,
    pub target: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn load_config(cfg: &AlertingConfig) -> anyhow::Result<(AmConfig, String)> {
    match &cfg.alertmanager_config {
        Some(p) => AmConfig::load(p),
        None => Ok((AmConfig::default(), String::new())),
    }
}

impl Notifier {
    /// Reads the configuration (errors name the file, line and field) and the saved state.
    pub fn new(cfg: AlertingConfig, data_dir: &Path, registry: &mut Registry) -> anyhow::Result<Arc<Notifier>> {
        let (config, original) = load_config(&cfg)?;
        let loaded = Loaded::compile(config, original, 0, None).map_err(|e| anyhow::anyhow!("{e}"))?;
        let dir = data_dir.join("alertmanager");
        std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        let silences = Silences::load(&dir)?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .user_agent(concat!("Bitacora-Alertmanager/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let shared = Arc::new(Shared {
            external_url: cfg.external_url.clone(),
            loaded: RwLock::new(Arc::new(loaded)),
            alerts: Mutex::new(AlertStore::new(MAX_ALERTS)),
            silences: Mutex::new(silences),
            nflog: Mutex::new(NotificationLog::load(&dir)),
            dirty: Mutex::new(Default::default()),
            wake: Default::default(),
            metrics: Metrics::new(registry),
            http,
            started: Timestamp::now(),
        });
        let (shutdown, _) = watch::channel(false);
        Ok(Arc::new(Notifier { shared, cfg, shutdown, task: Mutex::new(None) }))
    }

    /// Starts the dispatcher on the current tokio runtime.
    pub fn start(self: &Arc<Self>) {
        let mut task = self.task.lock();
        if task.is_none() {
            let rx = self.shutdown.subscribe();
            *task = Some(tokio::spawn(crate::dispatch::run(self.shared.clone(), rx)));
        }
    }

    /// Stops the dispatcher and saves silences and the notification log.
    pub async fn shutdown(&self) {
        let _ = self.shutdown.send(true);
        let task = self.task.lock().take();
        if let Some(t) = task {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), t).await;
        }
        if let Err(e) = self.shared.silences.lock().persist() {
            tracing::error!("cannot write silences: {e}");
        }
        if let Err(e) = self.shared.nflog.lock().persist() {
            tracing::error!("cannot write the notification log: {e}");
        }
    }

    /// Re-reads the configuration file; on error the running one stays.
    pub fn reload(&self) -> anyhow::Result<()> {
        let res = (|| {
            let (config, original) = load_config(&self.cfg)?;
            let prev = self.shared.loaded();
            let l = Loaded::compile(config, original, prev.generation + 1, Some(&prev))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            *self.shared.loaded.write() = Arc::new(l);
            self.shared.wake.notify_one();
            tracing::info!("alertmanager configuration reloaded");
            Ok(())
        })();
        if res.is_err() {
            self.shared.metrics.config_reloads_failed.inc();
        }
        res
    }

    /// Receives alerts; returns the errors of those refused (the others are kept).
    pub fn receive(&self, alerts: Vec<PostableAlert>) -> Vec<String> {
        let now = Timestamp::now();
        let rt = self.shared.resolve_timeout();
        let mut errors = Vec::new();
        let mut accepted = Vec::new();
        {
            let mut store = self.shared.alerts.lock();
            for p in alerts {
                match validate(p, now, rt) {
                    Ok(a) => {
                        let status = if a.resolved(now) { "resolved" } else { "firing" };
                        self.shared.metrics.alerts_received.get_or_create(&StatusLabel { status: status.into() }).inc();
                        match store.merge(a, now) {
                            Ok(a) => accepted.push(a.fingerprint),
                            Err(e) => errors.push(e.to_string()),
                        }
                    }
                    Err(e) => {
                        self.shared.metrics.alerts_invalid.inc();
                        errors.push(e);
                    }
                }
            }
        }
        if !accepted.is_empty() {
            self.shared.dirty.lock().extend(accepted);
            self.shared.wake.notify_one();
        }
        errors
    }

    /// Sends a test notification to every integration of a receiver now (one attempt each).
    /// None when there is no such receiver.
    pub async fn test_receiver(&self, name: &str) -> Option<Vec<TestResult>> {
        let loaded = self.shared.loaded();
        if !loaded.config.receivers.iter().any(|r| r.name == name) {
            return None;
        }
        let now = Timestamp::now();
        let p = PostableAlert {
            labels: [("alertname", "TestAlert"), ("instance", "bitacora"), ("severity", "info")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            annotations: [("summary".to_string(), "A test notification from Bitácora".to_string())].into(),
            starts_at: Some(now),
            ..Default::default()
        };
        let alert = validate(p, now, std::time::Duration::from_secs(300)).ok()?;
        let gl = [("alertname".to_string(), "TestAlert".to_string())].into();
        let n =
            Notification::new(name, "{}:{alertname=\"TestAlert\"}", gl, vec![alert], &self.shared.external_url, now);
        let integrations: Vec<Arc<Integration>> = loaded.integrations_of(name).cloned().collect();
        let mut out = Vec::new();
        for i in integrations {
            let r = i.notify(&n, &self.shared.http, &self.shared.metrics, tokio::time::Instant::now()).await;
            out.push(TestResult { kind: i.kind.into(), target: i.target.clone(), ok: r.is_ok(), error: r.err() });
        }
        Some(out)
    }

    /// The settings it was built with.
    pub fn settings(&self) -> &AlertingConfig {
        &self.cfg
    }
}

impl AlertSink for Notifier {
    fn send(&self, alerts: Vec<PostableAlert>) {
        for e in self.receive(alerts) {
            tracing::warn!("alert refused: {e}");
        }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}
