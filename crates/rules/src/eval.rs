//! One evaluation of a rule group at a timestamp: each rule's query through the [`Querier`]
//! (on the blocking pool, bounded by the group's interval), alert state changes recorded
//! through [`History`], due alerts handed to the sinks, recording rules' samples (and
//! `ALERTS` series) to remote write, status and metrics updated.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use model::alert::{AlertSink, PostableAlert};
use serde_json::json;

use crate::alert::{AlertState, LabelMap, Transition, to_ts};
use crate::group::{GroupHandle, GroupKey, Health, Straggler};
use crate::metrics::{Metrics, labels};
use crate::recording::{Recorded, record};
use crate::remote_write::RemoteWriter;
use crate::{History, Querier};

pub struct Evaluator {
    pub querier: Arc<dyn Querier>,
    pub history: Arc<dyn History>,
    pub sinks: Vec<Arc<dyn AlertSink>>,
    pub remote_write: Option<Arc<RemoteWriter>>,
    pub metrics: Metrics,
    pub resend_delay: Duration,
    pub external_url: String,
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn group_labels(k: &GroupKey) -> Vec<(String, String)> {
    labels(&[("tenant", &k.tenant), ("namespace", &k.namespace), ("rule_group", &k.group)])
}

impl Evaluator {
    fn generator_url(&self, k: &GroupKey, rule: &str) -> String {
        format!(
            "{}/alerting?namespace={}&group={}&rule={}",
            self.external_url.trim_end_matches('/'),
            pct(&k.namespace),
            pct(&k.group),
            pct(rule)
        )
    }

    async fn query(
        &self,
        tenant: &str,
        expr: &str,
        ts: i64,
        timeout: Duration,
        straggler: &mut Straggler,
    ) -> Result<Vec<(model::Labels, f64)>, String> {
        if let Some(previous) = straggler.take() {
            let _ = previous.await;
        }
        let (q, tenant_s, expr_s) = (self.querier.clone(), tenant.to_string(), expr.to_string());
        let deadline = Instant::now() + timeout;
        let mut task = tokio::task::spawn_blocking(move || q.instant_until(&tenant_s, &expr_s, ts, deadline));
        match tokio::time::timeout(timeout, &mut task).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(format!("query panicked: {e}")),
            Err(_) => {
                // Reported now; the next query of the group starts once this one has stopped.
                *straggler = Some(task);
                Err(format!("query timed out after {timeout:?} (the group's interval)"))
            }
        }
    }

    /// Evaluates every rule of `g` at `ts` (Unix ns), in order. Returns whether an alert
    /// changed state (the caller then saves the state).
    pub async fn evaluate(&self, g: &GroupHandle, ts: i64) -> bool {
        let mut straggler = g.eval_lock.lock().await;
        let started = Instant::now();
        let (key, interval, limit, exprs) = {
            let rt = g.rt.lock();
            (rt.key.clone(), rt.interval, rt.def.limit, rt.rules.iter().map(|r| r.def.expr.clone()).collect::<Vec<_>>())
        };
        let interval_ns = interval.as_nanos() as i64;
        let mut changed = false;
        let mut to_send: Vec<PostableAlert> = Vec::new();
        let mut to_write: Vec<Recorded> = Vec::new();
        for (i, expr) in exprs.iter().enumerate() {
            let rule_started = Instant::now();
            let result = self.query(&key.tenant, expr, ts, interval, &mut straggler).await;
            let mut rt = g.rt.lock();
            let Some(r) = rt.rules.get_mut(i) else { break };
            let outcome: Result<(), String> = match (result, r.spec.clone(), r.def.record.clone()) {
                (Err(e), _, _) => Err(e),
                (Ok(samples), Some(spec), _) => match r.alerts.apply(&spec, ts, samples, limit) {
                    Ok(transitions) => {
                        changed |= !transitions.is_empty();
                        for t in &transitions {
                            self.record_history(&key, &spec.name, t, ts);
                        }
                        let url = self.generator_url(&key, &spec.name);
                        to_send.extend(r.alerts.due(ts, self.resend_delay.as_nanos() as i64, interval_ns, &url));
                        for a in r.alerts.active.values().filter(|a| a.state != AlertState::Inactive) {
                            let mut l = a.labels.clone();
                            l.insert("__name__".into(), "ALERTS".into());
                            l.insert("alertstate".into(), a.state.as_str().into());
                            to_write.push((l, 1.0));
                        }
                        Ok(())
                    }
                    Err(e) => {
                        changed = true;
                        Err(e)
                    }
                },
                (Ok(samples), None, Some(name)) => {
                    record(&name, &r.def.labels, samples, limit).map(|s| to_write.extend(s))
                }
                (Ok(_), None, None) => Ok(()),
            };
            r.last_eval = Some(ts);
            r.eval_secs = rule_started.elapsed().as_secs_f64();
            match outcome {
                Ok(()) => {
                    r.health = Health::Ok;
                    r.last_error.clear();
                }
                Err(e) => {
                    tracing::warn!(tenant = %key.tenant, namespace = %key.namespace, group = %key.group, rule = %r.def.name(), error = %e, "rule evaluation failed");
                    r.health = Health::Err;
                    r.last_error = e;
                    self.metrics.eval_failures.get_or_create(&group_labels(&key)).inc();
                }
            }
        }
        let secs = started.elapsed().as_secs_f64();
        {
            let mut rt = g.rt.lock();
            rt.last_eval = Some(ts);
            rt.eval_secs = secs;
            let mut counts: BTreeMap<&str, i64> = [("pending", 0), ("firing", 0)].into();
            for r in &rt.rules {
                for a in r.alerts.active.values() {
                    if let Some(c) = counts.get_mut(a.state.as_str()) {
                        *c += 1;
                    }
                }
            }
            for (state, n) in counts {
                let mut l = group_labels(&key);
                l.push(("state".into(), state.into()));
                self.metrics.alerts.get_or_create(&l).set(n);
            }
        }
        self.metrics.eval_duration.get_or_create(&group_labels(&key)).observe(secs);
        self.metrics.eval_total.get_or_create(&group_labels(&key)).inc();
        if !to_send.is_empty() {
            for s in &self.sinks {
                s.send(to_send.clone());
            }
        }
        if let Some(rw) = &self.remote_write {
            rw.push(to_write, ts.div_euclid(1_000_000));
        }
        changed
    }

    fn record_history(&self, key: &GroupKey, name: &str, t: &Transition, ts: i64) {
        let labels: LabelMap = t.labels.clone();
        let line = json!({
            "alertname": name,
            "state": t.state.as_str(),
            "previous": t.previous.as_str(),
            "labels": labels,
            "value": t.value.is_finite().then_some(t.value),
            "namespace": key.namespace,
            "group": key.group,
            "activeAt": to_ts(t.active_at).to_string(),
        });
        let stream = model::Labels::from_pairs([("app", "bitacora"), ("source", "alerts"), ("alertname", name)])
            .unwrap_or_else(|_| model::Labels::empty());
        self.history.record(&key.tenant, stream, ts, line.to_string());
    }
}
