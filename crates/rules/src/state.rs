//! Persistence of active alerts across restarts: `<data_dir>/ruler/state.json`, written
//! atomically after evaluations that changed an alert's state and on shutdown; read at start
//! and used only if the outage was shorter than `for_outage_tolerance`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::group::{GroupHandle, GroupKey, RuleKey};
use crate::store::write_atomic;

#[derive(Serialize, Deserialize)]
struct StateJson {
    /// Unix ns when written.
    saved_at: i64,
    rules: Vec<RuleJson>,
}

#[derive(Serialize, Deserialize)]
struct RuleJson {
    tenant: String,
    namespace: String,
    group: String,
    rule: String,
    #[serde(default)]
    ordinal: usize,
    alerts: Vec<Alert>,
}

pub struct StateStore {
    path: PathBuf,
    lock: Mutex<()>,
}

impl StateStore {
    pub fn new(path: PathBuf) -> Self {
        StateStore { path, lock: Mutex::new(()) }
    }

    /// Writes every group's alerts, stamped `now` (Unix ns).
    pub fn save(&self, groups: &[Arc<GroupHandle>], now: i64) {
        let mut rules = Vec::new();
        for g in groups {
            for ((k, rule, ordinal), alerts) in g.rt.lock().alerts_by_rule() {
                rules.push(RuleJson {
                    tenant: k.tenant,
                    namespace: k.namespace,
                    group: k.group,
                    rule,
                    ordinal,
                    alerts,
                });
            }
        }
        let body = serde_json::to_vec_pretty(&StateJson { saved_at: now, rules }).unwrap_or_default();
        let _g = self.lock.lock();
        if let Err(e) = write_atomic(&self.path, &body) {
            tracing::error!(path = %self.path.display(), error = %e, "saving the ruler's alert state failed");
        }
    }

    /// The saved alerts, if written less than `tolerance_ns` before `now`.
    pub fn load(&self, now: i64, tolerance_ns: i64) -> HashMap<RuleKey, Vec<Alert>> {
        let mut out = HashMap::new();
        let text = match std::fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return out,
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "reading the ruler's alert state failed");
                return out;
            }
        };
        let state: StateJson = match serde_json::from_slice(&text) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "the ruler's alert state is unreadable; starting afresh");
                return out;
            }
        };
        let outage = now - state.saved_at;
        if outage >= tolerance_ns {
            tracing::info!(
                outage_secs = outage / 1_000_000_000,
                "outage longer than for_outage_tolerance: alerts start inactive"
            );
            return out;
        }
        for r in state.rules {
            let key = GroupKey { tenant: r.tenant, namespace: r.namespace, group: r.group };
            out.insert((key, r.rule, r.ordinal), r.alerts);
        }
        out
    }
}
