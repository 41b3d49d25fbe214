//! `SIGHUP`: the configuration is read again (file and environment) and what can change while
//! running is applied: the store's settings (retention, flushing, compaction, stream idle
//! period) and ingestion limits, users and tokens (`auth`), and the agent's container filters. Every changed key is
//! reported; keys that need a restart (the listener, the data directory, the API's settings,
//! the agent's other settings) are named as such. A bad file is refused with its problems, and
//! the server goes on with the configuration it has.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;

/// What a running server can be reconfigured through.
pub struct Reloadable {
    pub path: Option<PathBuf>,
    pub current: Config,
    pub store: Arc<store::Store>,
    pub agent: Option<agent::AgentReloader>,
    pub auth: Arc<auth::Auth>,
    pub api: api::AppState,
    /// The built-in notifier: its Alertmanager-format file is read again at every SIGHUP.
    pub notifier: std::sync::Arc<alertmanager::Notifier>,
}

/// Keys applied while running (prefixes of dotted key paths).
const LIVE: [&str; 6] =
    ["store.", "limits.", "overrides.", "auth.", "agent.include_containers", "agent.exclude_containers"];

impl Reloadable {
    /// Waits for SIGHUP for ever, reloading each time.
    pub fn spawn(mut self) {
        tokio::spawn(async move {
            let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
                tracing::warn!("cannot listen for SIGHUP; configuration reloads are off");
                return;
            };
            while hup.recv().await.is_some() {
                self.reload();
            }
        });
    }

    /// Reads the configuration again and applies it. Returns the changed keys.
    pub fn reload(&mut self) -> Vec<String> {
        let problems = crate::config::check(self.path.as_deref());
        let loaded = if problems.is_empty() {
            Config::load(self.path.as_deref()).map_err(|e| vec![format!("{e:#}")])
        } else {
            Err(problems)
        };
        let mut new = match loaded {
            Ok(c) => c,
            Err(problems) => {
                tracing::error!(problems = %problems.join("; "), "configuration reload refused; the running configuration stays");
                return Vec::new();
            }
        };
        // The command line's --listen and --data-dir win over the file, as at start.
        new.listen = self.current.listen;
        new.data_dir = self.current.data_dir.clone();
        let changed = diff(&self.current, &new);
        // The notifier's own file may have changed without any key of this one.
        if new.alerting.alertmanager_config == self.current.alerting.alertmanager_config {
            match self.notifier.reload() {
                Ok(()) => tracing::info!("notification configuration reloaded"),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "notification configuration not reloaded; the running one stays")
                }
            }
        }
        if changed.is_empty() {
            tracing::info!("configuration reloaded: nothing changed");
            return changed;
        }
        let (live, restart): (Vec<&String>, Vec<&String>) = changed
            .iter()
            .partition(|k| LIVE.iter().any(|p| k.starts_with(p) || k.as_str() == p.trim_end_matches('.')));
        // Users and tokens first: a refused auth section refuses the whole reload.
        if changed.iter().any(|k| k.starts_with("auth."))
            && let Err(e) = self.auth.reload(&new.auth)
        {
            tracing::error!(error = %e, "configuration reload refused: auth; the running configuration stays");
            return Vec::new();
        }
        if let Some(a) = &self.agent
            && live.iter().any(|k| k.starts_with("agent."))
            && let Err(e) = a.reload(new.agent.clone())
        {
            tracing::error!(error = %e, "agent filters not reloaded");
        }
        // `check` resolved the overrides above: an error here cannot happen; keep the running ones.
        match new.tenant_limits() {
            Ok(limits) => self.store.reconfigure(new.store.clone(), limits),
            Err(e) => tracing::error!(error = %e, "limits not reloaded"),
        }
        // What needs a restart stays as it runs, and /config shows what runs.
        let mut running = new;
        running.api = self.current.api.clone();
        let live_agent = (running.agent.include_containers.clone(), running.agent.exclude_containers.clone());
        running.agent = self.current.agent.clone();
        (running.agent.include_containers, running.agent.exclude_containers) = live_agent;
        running.log_level = self.current.log_level.clone();
        running.dashboards = self.current.dashboards.clone();
        if let Ok(mut y) = self.api.config_yaml.write() {
            *y = running.to_yaml();
        }
        tracing::info!(
            applied = %live.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
            needs_restart = %restart.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
            "configuration reloaded"
        );
        self.current = running;
        changed
    }
}

/// The dotted paths of the keys whose values differ.
fn diff(old: &Config, new: &Config) -> Vec<String> {
    let a = flat(&model::secret::reveal(|| serde_json::to_value(old)).unwrap_or_default());
    let b = flat(&model::secret::reveal(|| serde_json::to_value(new)).unwrap_or_default());
    let mut keys: Vec<String> = a.keys().chain(b.keys()).filter(|k| a.get(*k) != b.get(*k)).cloned().collect();
    keys.sort();
    keys.dedup();
    keys
}

fn flat(v: &serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, serde_json::Value>) {
        match v {
            serde_json::Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&p, v, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.clone());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk("", v, &mut out);
    out
}
