//! When a group runs: Prometheus' alignment (each group offset within its interval by a hash
//! of its identity, so groups spread out and keep their phase across restarts), and the loop
//! that evaluates on that schedule, counting iterations missed because one ran too long.

use std::sync::Arc;
use std::time::Duration;

use crate::eval::Evaluator;
use crate::group::{GroupHandle, GroupKey};
use crate::metrics::labels;

/// Unix ns now.
pub fn now_ns() -> i64 {
    jiff::Timestamp::now().as_nanosecond() as i64
}

/// The group's offset within its interval (FNV-1a of tenant, namespace and name).
pub fn offset_ns(k: &GroupKey, interval_ns: i64) -> i64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in k.tenant.bytes().chain([0]).chain(k.namespace.bytes()).chain([0]).chain(k.group.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    (h % interval_ns.max(1) as u64) as i64
}

/// The latest evaluation time at or before `now`.
pub fn aligned(now: i64, interval_ns: i64, offset: i64) -> i64 {
    let adj = now - offset;
    adj - adj.rem_euclid(interval_ns) + offset
}

/// Evaluates `g` on its schedule until aborted; `after` runs after each evaluation with
/// whether an alert changed state.
/// With a `gate`, a turn it refuses is skipped: another node evaluates the group.
pub async fn run(
    g: Arc<GroupHandle>,
    ev: Arc<Evaluator>,
    after: Arc<dyn Fn(bool) + Send + Sync>,
    gate: Option<crate::ruler::Gate>,
) {
    let interval = g.rt.lock().interval.max(Duration::from_millis(1));
    let iv = interval.as_nanos() as i64;
    let offset = offset_ns(&g.key, iv);
    let mut next = aligned(now_ns(), iv, offset) + iv;
    let l = labels(&[("tenant", &g.key.tenant), ("namespace", &g.key.namespace), ("rule_group", &g.key.group)]);
    loop {
        let wait = next - now_ns();
        if wait > 0 {
            tokio::time::sleep(Duration::from_nanos(wait as u64)).await;
        }
        let missed = (now_ns() - next) / iv;
        if missed > 0 {
            ev.metrics.missed_iterations.get_or_create(&l).inc_by(missed as u64);
            tracing::warn!(group = %g.key.group, namespace = %g.key.namespace, missed, "rule group evaluation fell behind");
        }
        let ts = next + missed.max(0) * iv;
        if gate.as_ref().is_some_and(|may| !may()) {
            ev.metrics.skipped_turns.get_or_create(&l).inc();
            next = ts + iv;
            continue;
        }
        let changed = ev.evaluate(&g, ts).await;
        after(changed);
        next = ts + iv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_is_stable_and_within_the_interval() {
        let k = GroupKey { tenant: "t".into(), namespace: "n".into(), group: "g".into() };
        let iv = 60_000_000_000;
        let off = offset_ns(&k, iv);
        assert!((0..iv).contains(&off));
        assert_eq!(off, offset_ns(&k.clone(), iv));
        let now = 1_700_000_123_456_789_000;
        let a = aligned(now, iv, off);
        assert!(a <= now && now - a < iv);
        assert_eq!((a - off).rem_euclid(iv), 0);
    }
}
