//! The dispatcher: routes received alerts into aggregation groups, flushes each group on its
//! timers, leaves out muted (silenced or inhibited) alerts, asks the notification log whether
//! each integration must hear of the group's state, and delivers in background tasks (a slow
//! or failing receiver delays nobody). Also the periodic housekeeping (garbage collection,
//! persistence, gauges).

mod group;
pub mod nflog;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::metrics::Metrics;
use crate::notification::Notification;
use crate::state::Shared;
use group::Group;

/// Resolved alerts stay listed this long.
const KEEP_RESOLVED: Duration = Duration::from_secs(15 * 60);

/// The outcome of a flush's deliveries.
struct Done {
    key: String,
    /// Every delivery succeeded: resolved alerts of the snapshot can leave the group.
    ok: bool,
    /// Resolved alerts sent (fingerprint and `updated_at`, to drop only unchanged ones).
    resolved: Vec<(u64, Timestamp)>,
}

/// Runs until `shutdown` turns true.
pub async fn run(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    let mut groups: HashMap<String, Group> = HashMap::new();
    let mut generation = u64::MAX;
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    loop {
        let loaded = shared.loaded();
        if loaded.generation != generation {
            // A new configuration: regroup every alert under the new routes.
            generation = loaded.generation;
            groups.clear();
            let all: Vec<u64> = shared.alerts.lock().iter().map(|a| a.fingerprint).collect();
            shared.dirty.lock().extend(all);
        }
        let now = Instant::now();
        ingest(&shared, &mut groups, now);
        for g in groups.values_mut() {
            if g.next_flush <= now {
                g.next_flush = now + g.route.group_interval;
                g.flushed = true;
                if !g.in_flight {
                    flush(&shared, g, done_tx.clone());
                }
            }
        }
        shared.metrics.groups.set(groups.len() as i64);
        let next = groups.values().map(|g| g.next_flush).min().unwrap_or(now + Duration::from_secs(3600));
        tokio::select! {
            _ = shared.wake.notified() => {}
            Some(d) = done_rx.recv() => finish(&mut groups, d),
            _ = tokio::time::sleep_until(next) => {}
            _ = tick.tick() => housekeeping(&shared),
            _ = shutdown.changed() => break,
        }
    }
}

fn ingest(shared: &Shared, groups: &mut HashMap<String, Group>, now: Instant) {
    let fps: Vec<u64> = shared.dirty.lock().drain().collect();
    if fps.is_empty() {
        return;
    }
    let loaded = shared.loaded();
    let Some(root) = &loaded.route else { return };
    let store = shared.alerts.lock();
    for fp in fps {
        let Some(a) = store.get(fp) else { continue };
        for r in root.match_labels(&a.labels) {
            let labels = r.group_labels(&a.labels);
            let key = group::group_key(r, &labels);
            let g = groups.entry(key).or_insert_with(|| Group::new(r, labels, now));
            let fresh = !g.flushed;
            g.insert(a.clone(), now, fresh);
        }
    }
}

fn finish(groups: &mut HashMap<String, Group>, d: Done) {
    let Some(g) = groups.get_mut(&d.key) else { return };
    g.in_flight = false;
    if d.ok {
        for (fp, updated) in d.resolved {
            if g.alerts.get(&fp).is_some_and(|a| a.updated_at == updated) {
                g.alerts.remove(&fp);
            }
        }
    }
    if g.alerts.is_empty() {
        groups.remove(&d.key);
    }
}

/// Works out who must be notified of the group's current state and starts the deliveries.
fn flush(shared: &Arc<Shared>, g: &mut Group, done: mpsc::UnboundedSender<Done>) {
    let now = Timestamp::now();
    let loaded = shared.loaded();
    let snapshot: Vec<_> = g.alerts.values().cloned().collect();
    let muting = shared.muting(&loaded, &snapshot, now);
    let mut alerts = Vec::new();
    let mut resolved_all = Vec::new();
    for (a, m) in snapshot.into_iter().zip(muting) {
        if a.resolved(now) {
            resolved_all.push((a.fingerprint, a.updated_at));
        }
        if !m.muted() {
            alerts.push(a);
        }
    }
    let firing: Vec<u64> = alerts.iter().filter(|a| !a.resolved(now)).map(|a| a.fingerprint).collect();
    let resolved: Vec<u64> = alerts.iter().filter(|a| a.resolved(now)).map(|a| a.fingerprint).collect();
    let mut jobs = Vec::new();
    {
        let nflog = shared.nflog.lock();
        for i in loaded.integrations_of(&g.route.receiver) {
            let key = format!("{}/{}", g.key, i.key());
            if nflog.needs_update(&key, &firing, &resolved, i.send_resolved, g.route.repeat_interval, now) {
                jobs.push((i.clone(), key));
            }
        }
    }
    if jobs.is_empty() {
        // Nothing to say: resolved alerts are done with.
        for (fp, _) in &resolved_all {
            g.alerts.remove(fp);
        }
        return;
    }
    g.in_flight = true;
    let n = Notification::new(&g.route.receiver, &g.key, g.labels.clone(), alerts, &shared.external_url, now);
    let deadline = Instant::now() + g.route.group_interval.max(Duration::from_secs(10));
    let shared = shared.clone();
    let key = g.key.clone();
    tokio::spawn(async move {
        let sends = jobs.into_iter().map(|(i, log_key)| {
            let shared = shared.clone();
            let mut n = n.clone();
            let (firing, resolved) = (firing.clone(), resolved.clone());
            async move {
                if !i.send_resolved {
                    n.alerts.retain(|a| !a.resolved(n.now));
                }
                let ok = n.alerts.is_empty() || i.notify(&n, &shared.http, &shared.metrics, deadline).await.is_ok();
                if ok {
                    shared.nflog.lock().record(&log_key, firing, resolved, n.now);
                }
                ok
            }
        });
        let results = futures_join_all(sends).await;
        let _ = done.send(Done { key, ok: results.iter().all(|x| *x), resolved: resolved_all });
    });
}

/// Runs futures concurrently and collects their outputs (in order).
async fn futures_join_all<F: std::future::Future<Output = bool> + Send + 'static>(
    fs: impl Iterator<Item = F>,
) -> Vec<bool> {
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap_or(false));
    }
    out
}

fn housekeeping(shared: &Shared) {
    let now = Timestamp::now();
    let loaded = shared.loaded();
    let all: Vec<_> = {
        let mut store = shared.alerts.lock();
        store.gc(now, KEEP_RESOLVED);
        store.iter().cloned().collect()
    };
    let muting = shared.muting(&loaded, &all, now);
    let (mut active, mut suppressed, mut resolved) = (0, 0, 0);
    for (a, m) in all.iter().zip(&muting) {
        if a.resolved(now) {
            resolved += 1;
        } else if m.muted() {
            suppressed += 1;
        } else {
            active += 1;
        }
    }
    Metrics::set_state(&shared.metrics.alerts, "active", active);
    Metrics::set_state(&shared.metrics.alerts, "suppressed", suppressed);
    Metrics::set_state(&shared.metrics.alerts, "resolved", resolved);
    {
        let mut s = shared.silences.lock();
        if s.gc(now) > 0
            && let Err(e) = s.persist()
        {
            tracing::warn!("cannot write silences: {e}");
        }
        for (st, n) in s.counts(now) {
            let name = serde_json::to_value(st).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            Metrics::set_state(&shared.metrics.silences, &name, n);
        }
    }
    let mut log = shared.nflog.lock();
    log.gc(now);
    if let Err(e) = log.persist() {
        tracing::warn!("cannot write the notification log: {e}");
    }
}
