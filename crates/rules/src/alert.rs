//! The alert state machine of one alerting rule, with Prometheus' semantics: a series in the
//! result makes an alert pending, pending for `for` makes it firing, a missing series resolves
//! it (after `keep_firing_for` if set), resolved alerts are kept 15 minutes so they are sent as
//! resolved; and which alerts to send when (resend delay, `endsAt`).

use std::collections::{BTreeMap, BTreeSet};

use model::alert::PostableAlert;
use serde::{Deserialize, Serialize};

use crate::template;

/// Resolved alerts are kept (and re-sent as resolved) this long.
pub const RESOLVED_RETENTION_NS: i64 = 15 * 60 * 1_000_000_000;

pub type LabelMap = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Inactive,
    Pending,
    Firing,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert instance. Times are Unix nanoseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// Series labels + rule labels + `alertname`.
    pub labels: LabelMap,
    pub annotations: LabelMap,
    pub state: AlertState,
    #[serde(with = "float_text")]
    pub value: f64,
    pub active_at: i64,
    #[serde(default)]
    pub fired_at: Option<i64>,
    #[serde(default)]
    pub resolved_at: Option<i64>,
    #[serde(default)]
    pub keep_firing_since: Option<i64>,
    #[serde(skip)]
    pub last_sent_at: Option<i64>,
    #[serde(skip)]
    pub valid_until: i64,
}

/// A change of an alert's state during one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub labels: LabelMap,
    pub previous: AlertState,
    pub state: AlertState,
    pub value: f64,
    pub active_at: i64,
}

/// What an alerting rule needs to run: its name, hold durations, labels and annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSpec {
    pub name: String,
    pub for_ns: i64,
    pub keep_firing_for_ns: i64,
    pub labels: LabelMap,
    pub annotations: LabelMap,
    /// `$externalURL` in templates: the ruler's `external_url`.
    pub external_url: std::sync::Arc<str>,
}

/// The active alerts of one rule, by their labels.
#[derive(Debug, Clone, Default)]
pub struct AlertSet {
    pub active: BTreeMap<LabelMap, Alert>,
}

fn expand_or_error(text: &str, labels: &LabelMap, value: f64, external_url: &str) -> String {
    template::expand(text, labels, value, external_url).unwrap_or_else(|e| format!("<error expanding template: {e}>"))
}

impl AlertSet {
    /// Applies one evaluation's result at `ts`; returns the state changes, or the error that
    /// fails the rule (then no alert is kept, as Prometheus does for `limit`).
    pub fn apply(
        &mut self,
        spec: &AlertSpec,
        ts: i64,
        samples: Vec<(model::Labels, f64)>,
        limit: usize,
    ) -> Result<Vec<Transition>, String> {
        let before: BTreeMap<LabelMap, (AlertState, f64, i64)> =
            self.active.iter().map(|(k, a)| (k.clone(), (a.state, a.value, a.active_at))).collect();
        let mut in_result = BTreeSet::new();
        for (series, value) in samples {
            let base: LabelMap =
                series.iter().filter(|(k, _)| *k != "__name__").map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let mut labels = base.clone();
            for (k, v) in &spec.labels {
                labels.insert(k.clone(), expand_or_error(v, &base, value, &spec.external_url));
            }
            labels.insert("alertname".into(), spec.name.clone());
            let annotations: LabelMap = spec
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), expand_or_error(v, &base, value, &spec.external_url)))
                .collect();
            if !in_result.insert(labels.clone()) {
                return Err("vector contains metrics with the same labelset after applying alert labels".into());
            }
            match self.active.get_mut(&labels) {
                Some(a) if a.state != AlertState::Inactive => {
                    a.value = value;
                    a.annotations = annotations;
                }
                _ => {
                    self.active.insert(
                        labels.clone(),
                        Alert {
                            labels,
                            annotations,
                            state: AlertState::Pending,
                            value,
                            active_at: ts,
                            fired_at: None,
                            resolved_at: None,
                            keep_firing_since: None,
                            last_sent_at: None,
                            valid_until: 0,
                        },
                    );
                }
            }
        }
        let mut active_or_pending = 0usize;
        let mut remove = Vec::new();
        for (key, a) in self.active.iter_mut() {
            if in_result.contains(key) {
                a.keep_firing_since = None;
            } else {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && spec.keep_firing_for_ns > 0 {
                    let since = *a.keep_firing_since.get_or_insert(ts);
                    keep_firing = ts - since < spec.keep_firing_for_ns;
                }
                if a.state == AlertState::Pending || a.resolved_at.is_some_and(|r| ts - r > RESOLVED_RETENTION_NS) {
                    remove.push(key.clone());
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at = Some(ts);
                }
                if !keep_firing {
                    continue;
                }
            }
            active_or_pending += 1;
            if a.state == AlertState::Pending && ts - a.active_at >= spec.for_ns {
                a.state = AlertState::Firing;
                a.fired_at = Some(ts);
            }
        }
        let mut removed = BTreeMap::new();
        for k in remove {
            if let Some(a) = self.active.remove(&k) {
                removed.insert(k, a);
            }
        }
        if limit > 0 && active_or_pending > limit {
            self.active.clear();
            return Err(format!("exceeded limit of {limit} with {active_or_pending} alerts"));
        }
        let mut out = Vec::new();
        let keys: BTreeSet<&LabelMap> = before.keys().chain(self.active.keys()).collect();
        for k in keys {
            let prev = before.get(k).map_or(AlertState::Inactive, |b| b.0);
            let now = self.active.get(k).or_else(|| removed.get(k));
            let (state, value, active_at) = match now {
                Some(a) => (a.state, a.value, a.active_at),
                None => (AlertState::Inactive, before[k].1, before[k].2),
            };
            if state != prev {
                out.push(Transition { labels: k.clone(), previous: prev, state, value, active_at });
            }
        }
        Ok(out)
    }

    /// The alerts due to be sent at `ts` (Prometheus' rules): firing ones every `resend_ns` and
    /// when newly fired, resolved ones when newly resolved; marks them sent.
    pub fn due(&mut self, ts: i64, resend_ns: i64, interval_ns: i64, generator_url: &str) -> Vec<PostableAlert> {
        let mut out = Vec::new();
        for a in self.active.values_mut() {
            if a.state == AlertState::Pending {
                continue;
            }
            let newly_resolved = match (a.resolved_at, a.last_sent_at) {
                (Some(r), Some(s)) => r > s,
                (Some(_), None) => true,
                _ => false,
            };
            let resend = a.last_sent_at.is_none_or(|s| s + resend_ns < ts);
            if !newly_resolved && !resend {
                continue;
            }
            a.last_sent_at = Some(ts);
            a.valid_until = ts + 4 * resend_ns.max(interval_ns);
            out.push(PostableAlert {
                labels: a.labels.clone(),
                annotations: a.annotations.clone(),
                starts_at: Some(to_ts(a.fired_at.unwrap_or(a.active_at))),
                ends_at: Some(to_ts(a.resolved_at.unwrap_or(a.valid_until))),
                generator_url: generator_url.to_string(),
            });
        }
        out
    }
}

/// Unix nanoseconds as a timestamp.
pub fn to_ts(ns: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_nanosecond(ns as i128).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Floats as text in JSON so `NaN` and `±Inf` survive.
mod float_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::template::go_float(*v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<f64>().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn spec(for_s: i64, keep_s: i64) -> AlertSpec {
        AlertSpec {
            name: "A".into(),
            for_ns: for_s * S,
            keep_firing_for_ns: keep_s * S,
            labels: [("severity".to_string(), "page".to_string())].into(),
            annotations: [("summary".to_string(), "{{ $labels.app }} at {{ $value }}".to_string())].into(),
            external_url: "http://h:3100".into(),
        }
    }

    fn sample(v: f64) -> Vec<(model::Labels, f64)> {
        vec![(model::Labels::from_pairs([("app", "shop")]).unwrap(), v)]
    }

    fn states(t: &[Transition]) -> Vec<(AlertState, AlertState)> {
        t.iter().map(|t| (t.previous, t.state)).collect()
    }

    #[test]
    fn pending_firing_resolved_with_exact_for() {
        let (sp, mut set) = (spec(120, 0), AlertSet::default());
        let t = set.apply(&sp, 0, sample(5.0), 0).unwrap();
        assert_eq!(states(&t), [(AlertState::Inactive, AlertState::Pending)]);
        let a = set.active.values().next().unwrap();
        assert_eq!(a.labels["alertname"], "A");
        assert_eq!(a.labels["severity"], "page");
        assert_eq!(a.annotations["summary"], "shop at 5");
        assert!(set.apply(&sp, 60 * S, sample(6.0), 0).unwrap().is_empty());
        assert!(set.due(60 * S, 60 * S, 60 * S, "").is_empty(), "pending alerts are not sent");
        let t = set.apply(&sp, 120 * S, sample(7.0), 0).unwrap();
        assert_eq!(states(&t), [(AlertState::Pending, AlertState::Firing)]);
        let sent = set.due(120 * S, 60 * S, 30 * S, "g");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].ends_at, Some(to_ts(120 * S + 240 * S)));
        assert!(set.due(150 * S, 60 * S, 30 * S, "g").is_empty(), "not before the resend delay");
        assert_eq!(set.due(181 * S, 60 * S, 30 * S, "g").len(), 1);
        let t = set.apply(&sp, 240 * S, vec![], 0).unwrap();
        assert_eq!(states(&t), [(AlertState::Firing, AlertState::Inactive)]);
        let sent = set.due(240 * S, 60 * S, 30 * S, "g");
        assert_eq!(sent[0].ends_at, Some(to_ts(240 * S)));
        assert_eq!(set.active.len(), 1, "kept while resolved");
        set.apply(&sp, 240 * S + RESOLVED_RETENTION_NS + S, vec![], 0).unwrap();
        assert!(set.active.is_empty());
    }

    #[test]
    fn for_zero_fires_at_once_and_pending_drops_silently_to_inactive() {
        let mut set = AlertSet::default();
        let t = set.apply(&spec(0, 0), 0, sample(1.0), 0).unwrap();
        assert_eq!(states(&t), [(AlertState::Inactive, AlertState::Firing)]);
        let mut set = AlertSet::default();
        set.apply(&spec(60, 0), 0, sample(1.0), 0).unwrap();
        let t = set.apply(&spec(60, 0), 30 * S, vec![], 0).unwrap();
        assert_eq!(states(&t), [(AlertState::Pending, AlertState::Inactive)]);
        assert!(set.active.is_empty());
    }

    #[test]
    fn keep_firing_for_and_limit() {
        let (sp, mut set) = (spec(0, 90), AlertSet::default());
        set.apply(&sp, 0, sample(1.0), 0).unwrap();
        assert!(set.apply(&sp, 60 * S, vec![], 0).unwrap().is_empty());
        assert_eq!(set.active.values().next().unwrap().keep_firing_since, Some(60 * S));
        assert!(set.apply(&sp, 120 * S, vec![], 0).unwrap().is_empty());
        let t = set.apply(&sp, 150 * S, vec![], 0).unwrap();
        assert_eq!(states(&t), [(AlertState::Firing, AlertState::Inactive)]);
        let two = vec![
            (model::Labels::from_pairs([("app", "a")]).unwrap(), 1.0),
            (model::Labels::from_pairs([("app", "b")]).unwrap(), 1.0),
        ];
        let e = AlertSet::default().apply(&sp, 0, two, 1).unwrap_err();
        assert_eq!(e, "exceeded limit of 1 with 2 alerts");
    }
}
