//! A rule group at run time: its definition, each rule's alerts and health, and the last
//! evaluation; carried over (for unchanged rules) when the group is replaced.

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;

use crate::alert::{Alert, AlertSet, AlertSpec};
use crate::file::{Rule, RuleGroup};

/// Which group: tenant, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKey {
    pub tenant: String,
    pub namespace: String,
    pub group: String,
}

/// Which rule, for carrying state across restarts: the group, the rule's name and which of
/// the rules with that name it is.
pub type RuleKey = (GroupKey, String, usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Unknown,
    Ok,
    Err,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ok => "ok",
            Health::Err => "err",
        }
    }
}

pub struct RuleRuntime {
    pub def: Rule,
    /// Alerting rules only.
    pub spec: Option<AlertSpec>,
    pub alerts: AlertSet,
    pub health: Health,
    pub last_error: String,
    /// Unix ns of the last evaluation.
    pub last_eval: Option<i64>,
    pub eval_secs: f64,
}

pub struct GroupRuntime {
    pub key: GroupKey,
    pub def: RuleGroup,
    pub interval: Duration,
    pub rules: Vec<RuleRuntime>,
    pub last_eval: Option<i64>,
    pub eval_secs: f64,
}

fn ns(d: Option<model::duration::PromDuration>) -> i64 {
    d.map_or(0, |d| d.0.as_nanos() as i64)
}

impl GroupRuntime {
    /// A fresh group; alerts restored from a previous run are taken out of `restored`.
    pub fn new(
        key: GroupKey,
        def: RuleGroup,
        default_interval: Duration,
        external_url: &std::sync::Arc<str>,
        restored: &mut HashMap<RuleKey, Vec<Alert>>,
    ) -> Self {
        let interval = def.interval.map_or(default_interval, |d| d.0);
        let mut seen: HashMap<String, usize> = HashMap::new();
        let rules = def
            .rules
            .iter()
            .map(|r| {
                let ordinal = seen.entry(r.name().to_string()).or_default();
                let rk = (key.clone(), r.name().to_string(), *ordinal);
                *ordinal += 1;
                let mut alerts = AlertSet::default();
                if r.is_alerting() {
                    for a in restored.remove(&rk).unwrap_or_default() {
                        alerts.active.insert(a.labels.clone(), a);
                    }
                }
                RuleRuntime {
                    spec: r.alert.as_ref().map(|name| AlertSpec {
                        name: name.clone(),
                        for_ns: ns(r.for_),
                        keep_firing_for_ns: ns(r.keep_firing_for),
                        labels: r.labels.clone(),
                        annotations: r.annotations.clone(),
                        external_url: external_url.clone(),
                    }),
                    def: r.clone(),
                    alerts,
                    health: Health::Unknown,
                    last_error: String::new(),
                    last_eval: None,
                    eval_secs: 0.0,
                }
            })
            .collect();
        GroupRuntime { key, def, interval, rules, last_eval: None, eval_secs: 0.0 }
    }

    /// Takes the alerts and status of rules that are unchanged in `old` (same definition).
    pub fn take_state_from(&mut self, old: &mut GroupRuntime) {
        for r in &mut self.rules {
            if let Some(o) = old.rules.iter_mut().find(|o| o.def == r.def && o.last_eval.is_some()) {
                r.alerts = std::mem::take(&mut o.alerts);
                r.health = o.health;
                r.last_error = std::mem::take(&mut o.last_error);
                r.last_eval = o.last_eval;
                r.eval_secs = o.eval_secs;
                o.last_eval = None;
            }
        }
    }

    /// Each alerting rule's alerts with the rule's key, for saving.
    pub fn alerts_by_rule(&self) -> Vec<(RuleKey, Vec<Alert>)> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut out = Vec::new();
        for r in &self.rules {
            let ordinal = seen.entry(r.def.name()).or_default();
            let rk = (self.key.clone(), r.def.name().to_string(), *ordinal);
            *ordinal += 1;
            if r.spec.is_some() && !r.alerts.active.is_empty() {
                out.push((rk, r.alerts.active.values().cloned().collect()));
            }
        }
        out
    }
}

/// A group shared by its evaluation loop and the HTTP API.
/// A rule query still running after its evaluation timed out.
pub type Straggler = Option<tokio::task::JoinHandle<Result<Vec<(model::Labels, f64)>, String>>>;

pub struct GroupHandle {
    pub key: GroupKey,
    pub rt: Mutex<GroupRuntime>,
    /// One evaluation at a time, holding the query an evaluation gave up on at its deadline
    /// while it still runs: the next evaluation waits for it, so a query that does not stop at
    /// its deadline is never joined by another one each interval.
    pub eval_lock: tokio::sync::Mutex<Straggler>,
    pub task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl GroupHandle {
    pub fn new(rt: GroupRuntime) -> Self {
        GroupHandle {
            key: rt.key.clone(),
            rt: Mutex::new(rt),
            eval_lock: tokio::sync::Mutex::new(None),
            task: Mutex::new(None),
        }
    }

    pub fn stop(&self) {
        if let Some(t) = self.task.lock().take() {
            t.abort();
        }
    }
}
