//! What the notifier's parts share: the loaded configuration (swapped whole on reload), the
//! alert store, silences, the notification log, the intake queue and the metrics.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use parking_lot::{Mutex, RwLock};
use tokio::sync::Notify;

use crate::alerts::{Alert, AlertStore};
use crate::config::AmConfig;
use crate::dispatch::nflog::NotificationLog;
use crate::inhibit::{InhibitIndex, InhibitRule};
use crate::metrics::Metrics;
use crate::receivers::{Integration, IntegrationStats};
use crate::route::Route;
use crate::silence::Silences;

/// At most this many alerts are held.
pub const MAX_ALERTS: usize = 100_000;

/// A loaded configuration, compiled.
pub struct Loaded {
    pub config: AmConfig,
    /// The file's text (`/api/v2/status`'s `config.original`).
    pub original: String,
    pub route: Option<Route>,
    pub inhibit: Vec<InhibitRule>,
    pub integrations: Vec<Arc<Integration>>,
    /// Changes on every reload.
    pub generation: u64,
}

impl Loaded {
    pub fn compile(
        config: AmConfig,
        original: String,
        generation: u64,
        previous: Option<&Loaded>,
    ) -> Result<Self, String> {
        let route = config.route.as_ref().map(Route::compile).transpose()?;
        let inhibit = config.inhibit_rules.iter().map(InhibitRule::compile).collect::<Result<Vec<_>, _>>()?;
        let stats: HashMap<String, Arc<Mutex<IntegrationStats>>> =
            previous.map(|p| p.integrations.iter().map(|i| (i.key(), i.stats.clone())).collect()).unwrap_or_default();
        let integrations = crate::receivers::build(&config, &stats)?;
        Ok(Loaded { config, original, route, inhibit, integrations, generation })
    }

    pub fn integrations_of<'a>(&'a self, receiver: &'a str) -> impl Iterator<Item = &'a Arc<Integration>> + 'a {
        self.integrations.iter().filter(move |i| i.receiver == receiver)
    }

    /// Names of the receivers an alert goes to.
    pub fn receivers_for(&self, labels: &BTreeMap<String, String>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if let Some(r) = &self.route {
            for m in r.match_labels(labels) {
                if !out.contains(&m.receiver) {
                    out.push(m.receiver.clone());
                }
            }
        }
        out
    }
}

/// Why an alert is muted right now.
#[derive(Debug, Clone, Default)]
pub struct Muting {
    pub silenced_by: Vec<String>,
    pub inhibited_by: Vec<String>,
}

impl Muting {
    pub fn muted(&self) -> bool {
        !self.silenced_by.is_empty() || !self.inhibited_by.is_empty()
    }
}

pub struct Shared {
    pub external_url: String,
    pub loaded: RwLock<Arc<Loaded>>,
    pub alerts: Mutex<AlertStore>,
    pub silences: Mutex<Silences>,
    pub nflog: Mutex<NotificationLog>,
    /// Fingerprints received since the dispatcher last looked.
    pub dirty: Mutex<HashSet<u64>>,
    pub wake: Notify,
    pub metrics: Metrics,
    pub http: reqwest::Client,
    pub started: Timestamp,
}

impl Shared {
    pub fn loaded(&self) -> Arc<Loaded> {
        self.loaded.read().clone()
    }

    pub fn resolve_timeout(&self) -> Duration {
        self.loaded.read().config.global.resolve_timeout.0
    }

    /// Silencing and inhibition of each given alert, against all current alerts.
    pub fn muting(&self, loaded: &Loaded, targets: &[Alert], now: Timestamp) -> Vec<Muting> {
        let store = self.alerts.lock();
        let index = InhibitIndex::build(&loaded.inhibit, store.iter(), now);
        let silences = self.silences.lock();
        targets
            .iter()
            .map(|a| Muting {
                silenced_by: silences.silenced_by(&a.labels, now),
                inhibited_by: if a.resolved(now) { Vec::new() } else { index.inhibited_by(a) },
            })
            .collect()
    }
}
