//! An aggregation group: the alerts of one route with the same `group_by` label values, and
//! when it is next flushed (after `group_wait` at first, then every `group_interval`).

use std::collections::{BTreeMap, HashMap};

use tokio::time::Instant;

use crate::alerts::Alert;
use crate::route::Route;

pub struct Group {
    /// `<route id>:<group labels>`, Alertmanager's group key.
    pub key: String,
    pub route: Route,
    pub labels: BTreeMap<String, String>,
    pub alerts: HashMap<u64, Alert>,
    pub next_flush: Instant,
    /// A flush's deliveries are still running.
    pub in_flight: bool,
    /// Flushed at least once (so `group_wait` is over).
    pub flushed: bool,
}

/// The group key of some group labels on a route.
pub fn group_key(route: &Route, labels: &BTreeMap<String, String>) -> String {
    let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={}", model::quote_go(v))).collect();
    format!("{}:{{{}}}", route.id, l.join(","))
}

impl Group {
    pub fn new(route: &Route, labels: BTreeMap<String, String>, now: Instant) -> Self {
        Group {
            key: group_key(route, &labels),
            route: route.clone(),
            labels,
            alerts: HashMap::new(),
            next_flush: now + route.group_wait,
            in_flight: false,
            flushed: false,
        }
    }

    /// Adds or replaces an alert. An alert that started longer than `group_wait` ago makes
    /// a group that has not flushed yet flush now (it waited long enough).
    pub fn insert(&mut self, a: Alert, now: Instant, fresh: bool) {
        if fresh && (jiff::Timestamp::now() - self.route.group_wait) > a.starts_at {
            self.next_flush = self.next_flush.min(now);
        }
        self.alerts.insert(a.fingerprint, a);
    }
}
