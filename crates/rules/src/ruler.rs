//! The ruler: rule groups per tenant loaded from the rule store, their evaluation loops, the
//! edits made through the ruler API (written to disk, effective at once, unchanged rules keep
//! their alerts), alert state persistence and the senders' background tasks.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use model::alert::AlertSink;
use parking_lot::{Mutex, RwLock};
use prometheus_client::registry::Registry;

use crate::config::RulerConfig;
use crate::eval::Evaluator;
use crate::file::{RuleFile, RuleGroup};
use crate::group::{GroupHandle, GroupKey, GroupRuntime};
use crate::metrics::Metrics;
use crate::notifier::Alertmanager;
use crate::remote_write::RemoteWriter;
use crate::schedule::{self, now_ns};
use crate::state::StateStore;
use crate::store::{RuleStore, check_name};
use crate::validate::{validate_file, validate_group};
use crate::{History, Querier};

type Groups = Arc<RwLock<BTreeMap<GroupKey, Arc<GroupHandle>>>>;

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Io(String),
}

/// Whether this node evaluates rules now (one node of many sharing a bucket does).
pub type Gate = Arc<dyn Fn() -> bool + Send + Sync>;

pub struct Ruler {
    cfg: RulerConfig,
    /// Asked before every evaluation; unset: always evaluate.
    gate: std::sync::OnceLock<Gate>,
    store: RuleStore,
    state: Arc<StateStore>,
    ev: Arc<Evaluator>,
    groups: Groups,
    started: AtomicBool,
    edit_lock: tokio::sync::Mutex<()>,
    alertmanagers: Vec<Arc<Alertmanager>>,
    remote_write: Option<Arc<RemoteWriter>>,
    workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    workers_started: AtomicBool,
}

impl Ruler {
    /// Loads the rule files and the saved alert state; starts the senders' background tasks
    /// if called inside a tokio runtime (else [`start`](Self::start) does).
    pub fn new(
        cfg: RulerConfig,
        data_dir: &Path,
        querier: Arc<dyn Querier>,
        history: Arc<dyn History>,
        sinks: Vec<Arc<dyn AlertSink>>,
        registry: &mut Registry,
    ) -> anyhow::Result<Arc<Ruler>> {
        let metrics = Metrics::new(registry);
        let dir = if cfg.rules_dir.as_os_str().is_empty() { data_dir.join("rules") } else { cfg.rules_dir.clone() };
        std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("rules directory {}: {e}", dir.display()))?;
        let store = RuleStore::new(dir);
        let state = Arc::new(StateStore::new(data_dir.join("ruler").join("state.json")));
        let alertmanagers = cfg
            .alertmanager_url
            .iter()
            .map(|u| Alertmanager::new(u, metrics.clone()))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let remote_write = match &cfg.remote_write {
            Some(rw) if !rw.url.is_empty() => Some(RemoteWriter::new(rw.clone(), metrics.clone())?),
            _ => None,
        };
        let mut all_sinks: Vec<Arc<dyn AlertSink>> =
            alertmanagers.iter().map(|a| a.clone() as Arc<dyn AlertSink>).collect();
        all_sinks.extend(sinks);
        let ev = Arc::new(Evaluator {
            querier,
            history,
            sinks: all_sinks,
            remote_write: remote_write.clone(),
            metrics,
            resend_delay: cfg.resend_delay.0,
            external_url: cfg.external_url.clone(),
        });
        let mut restored = state.load(now_ns(), cfg.for_outage_tolerance.0.as_nanos() as i64);
        let external: Arc<str> = cfg.external_url.trim_end_matches('/').into();
        let (all, errors) = store.load_all();
        for e in errors {
            tracing::error!(error = %e, "rule file not loaded");
        }
        let mut map = BTreeMap::new();
        for (tenant, files) in all {
            for (namespace, file) in files {
                for def in file.groups {
                    let key =
                        GroupKey { tenant: tenant.clone(), namespace: namespace.clone(), group: def.name.clone() };
                    let rt = GroupRuntime::new(key.clone(), def, cfg.evaluation_interval.0, &external, &mut restored);
                    map.insert(key, Arc::new(GroupHandle::new(rt)));
                }
            }
        }
        tracing::info!(groups = map.len(), rules_dir = %store.dir().display(), "ruler loaded");
        let ruler = Arc::new(Ruler {
            cfg,
            gate: std::sync::OnceLock::new(),
            store,
            state,
            ev,
            groups: Arc::new(RwLock::new(map)),
            started: AtomicBool::new(false),
            edit_lock: tokio::sync::Mutex::new(()),
            alertmanagers,
            remote_write,
            workers: Mutex::new(Vec::new()),
            workers_started: AtomicBool::new(false),
        });
        if tokio::runtime::Handle::try_current().is_ok() {
            ruler.start_workers();
        }
        Ok(ruler)
    }

    pub fn config(&self) -> &RulerConfig {
        &self.cfg
    }

    /// Makes every evaluation ask `gate` first: when it says no, the group's turn is skipped
    /// (another node evaluates). Set before [`start`](Self::start).
    pub fn set_gate(&self, gate: Gate) {
        let _ = self.gate.set(gate);
    }

    fn start_workers(&self) {
        if self.workers_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let mut w = self.workers.lock();
        for am in &self.alertmanagers {
            w.push(tokio::spawn(am.clone().run()));
        }
        if let Some(rw) = &self.remote_write {
            w.push(tokio::spawn(rw.clone().run()));
        }
    }

    /// Spawns every group's evaluation loop on the current tokio runtime.
    pub fn start(self: &Arc<Self>) {
        if !self.cfg.enabled || self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        self.start_workers();
        for g in self.groups.read().values() {
            self.spawn_group(g);
        }
    }

    fn spawn_group(&self, g: &Arc<GroupHandle>) {
        let (groups, state) = (self.groups.clone(), self.state.clone());
        let after: Arc<dyn Fn(bool) + Send + Sync> = Arc::new(move |changed| {
            if changed {
                save(&groups, &state);
            }
        });
        let task = tokio::spawn(schedule::run(g.clone(), self.ev.clone(), after, self.gate.get().cloned()));
        if let Some(old) = g.task.lock().replace(task) {
            old.abort();
        }
    }

    /// Stops the loops, saves the alert state, and gives the senders a few seconds to drain.
    pub async fn shutdown(&self) {
        let groups: Vec<_> = self.groups.read().values().cloned().collect();
        for g in &groups {
            g.stop();
        }
        for g in &groups {
            let _ = g.eval_lock.lock().await;
        }
        save(&self.groups, &self.state);
        for am in &self.alertmanagers {
            am.stop();
        }
        if let Some(rw) = &self.remote_write {
            rw.stop();
        }
        let workers: Vec<_> = self.workers.lock().drain(..).collect();
        for w in workers {
            let abort = w.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), w).await.is_err() {
                abort.abort();
            }
        }
    }

    /// Saves the alert state now.
    pub fn persist(&self) {
        save(&self.groups, &self.state);
    }

    /// Evaluates one group at `ts_nanos` now (what its loop does on schedule); for tests and
    /// tools that drive time themselves.
    pub async fn evaluate_group_at(
        &self,
        tenant: &str,
        namespace: &str,
        group: &str,
        ts_nanos: i64,
    ) -> Result<(), String> {
        let key = GroupKey { tenant: tenant.into(), namespace: namespace.into(), group: group.into() };
        let g = self.groups.read().get(&key).cloned().ok_or_else(|| format!("no rule group {namespace}/{group}"))?;
        if self.ev.evaluate(&g, ts_nanos).await {
            self.persist();
        }
        Ok(())
    }

    /// A tenant's groups, by namespace and name.
    pub fn groups_of(&self, tenant: &str) -> Vec<Arc<GroupHandle>> {
        self.groups.read().iter().filter(|(k, _)| k.tenant == tenant).map(|(_, g)| g.clone()).collect()
    }

    /// A tenant's namespace files as stored.
    pub fn namespaces(&self, tenant: &str) -> BTreeMap<String, RuleFile> {
        if check_name("tenant", tenant).is_err() {
            return BTreeMap::new();
        }
        self.store.load_tenant(tenant).0
    }

    /// Adds or replaces a group in a namespace.
    pub async fn put_group(&self, tenant: &str, namespace: &str, group: RuleGroup) -> Result<(), EditError> {
        check_name("tenant", tenant).map_err(EditError::Invalid)?;
        check_name("namespace", namespace).map_err(EditError::Invalid)?;
        validate_group(namespace, &group).map_err(EditError::Invalid)?;
        let _l = self.edit_lock.lock().await;
        let current = self.namespaces(tenant).remove(namespace);
        let file = RuleStore::merged(current.as_ref(), group);
        validate_file(namespace, &file).map_err(EditError::Invalid)?;
        self.store.write_namespace(tenant, namespace, &file).map_err(|e| EditError::Io(e.to_string()))?;
        self.reload_tenant(tenant).await;
        Ok(())
    }

    /// Deletes a namespace, or one group of it.
    pub async fn delete(&self, tenant: &str, namespace: &str, group: Option<&str>) -> Result<(), EditError> {
        check_name("tenant", tenant).map_err(EditError::Invalid)?;
        check_name("namespace", namespace).map_err(EditError::Invalid)?;
        let _l = self.edit_lock.lock().await;
        let Some(mut file) = self.namespaces(tenant).remove(namespace) else {
            return Err(EditError::NotFound("no rule groups found".into()));
        };
        match group {
            Some(name) => {
                let before = file.groups.len();
                file.groups.retain(|g| g.name != name);
                if file.groups.len() == before {
                    return Err(EditError::NotFound("group does not exist".into()));
                }
            }
            None => file.groups.clear(),
        }
        self.store.write_namespace(tenant, namespace, &file).map_err(|e| EditError::Io(e.to_string()))?;
        self.reload_tenant(tenant).await;
        Ok(())
    }

    /// Makes the tenant's groups match its files: unchanged groups keep running untouched,
    /// changed ones restart with the alerts of their unchanged rules, removed ones stop.
    async fn reload_tenant(&self, tenant: &str) {
        let files = self.namespaces(tenant);
        let old: BTreeMap<GroupKey, Arc<GroupHandle>> = self
            .groups
            .read()
            .iter()
            .filter(|(k, _)| k.tenant == tenant)
            .map(|(k, g)| (k.clone(), g.clone()))
            .collect();
        let mut new = BTreeMap::new();
        let mut none = Default::default();
        for (namespace, file) in files {
            for def in file.groups {
                let key = GroupKey { tenant: tenant.into(), namespace: namespace.clone(), group: def.name.clone() };
                if let Some(g) = old.get(&key).filter(|g| g.rt.lock().def == def) {
                    new.insert(key, g.clone());
                    continue;
                }
                let external: Arc<str> = self.cfg.external_url.trim_end_matches('/').into();
                let mut rt = GroupRuntime::new(key.clone(), def, self.cfg.evaluation_interval.0, &external, &mut none);
                if let Some(o) = old.get(&key) {
                    o.stop();
                    let _busy = o.eval_lock.lock().await;
                    rt.take_state_from(&mut o.rt.lock());
                }
                let g = Arc::new(GroupHandle::new(rt));
                if self.started.load(Ordering::SeqCst) {
                    self.spawn_group(&g);
                }
                new.insert(key, g);
            }
        }
        for (k, g) in &old {
            if !new.contains_key(k) {
                g.stop();
            }
        }
        {
            let mut all = self.groups.write();
            all.retain(|k, _| k.tenant != tenant);
            all.extend(new);
        }
        self.persist();
    }
}

fn save(groups: &Groups, state: &StateStore) {
    let list: Vec<_> = groups.read().values().cloned().collect();
    state.save(&list, now_ns());
}
