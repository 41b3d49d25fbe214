//! The alert store: every alert received, merged by fingerprint (the hash of its labels), with
//! its `startsAt`/`endsAt`; an alert without `endsAt` resolves `resolve_timeout` after it was
//! last received. Resolved alerts are kept a while for listing, then dropped.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::Timestamp;
use model::alert::PostableAlert;

/// A received alert, as the notifier keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub updated_at: Timestamp,
    pub generator_url: String,
    /// `ends_at` came from `resolve_timeout`, not from the sender.
    pub timeout: bool,
    pub fingerprint: u64,
}

impl Alert {
    pub fn resolved(&self, now: Timestamp) -> bool {
        self.ends_at <= now
    }

    pub fn fingerprint_hex(&self) -> String {
        format!("{:016x}", self.fingerprint)
    }

    /// A label's value, `None` when missing.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

/// The fingerprint Alertmanager computes: FNV-1a (64 bit) over the sorted label names and
/// values, each followed by a 0xff separator.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut feed = |b: &[u8]| {
        for &x in b {
            h ^= x as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    };
    for (k, v) in labels {
        feed(k.as_bytes());
        feed(&[0xff]);
        feed(v.as_bytes());
        feed(&[0xff]);
    }
    h
}

fn valid_label_name(n: &str) -> bool {
    let mut c = n.chars();
    matches!(c.next(), Some(f) if f == '_' || f.is_ascii_alphabetic())
        && c.all(|x| x == '_' || x.is_ascii_alphanumeric())
}

/// Checks a posted alert and turns it into an [`Alert`] (not yet merged).
pub fn validate(p: PostableAlert, now: Timestamp, resolve_timeout: Duration) -> Result<Alert, String> {
    let labels: BTreeMap<String, String> = p.labels.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    if labels.is_empty() {
        return Err("alert has no labels (at least one label pair is required)".into());
    }
    if let Some(bad) = labels.keys().find(|k| !valid_label_name(k)) {
        return Err(format!("invalid label name {bad:?}"));
    }
    // As Alertmanager: a missing start is now, or the end when only the end is given.
    let starts_at = p.starts_at.or(p.ends_at.filter(|e| *e < now)).unwrap_or(now);
    let (ends_at, timeout) = match p.ends_at {
        Some(e) => (e, false),
        None => (now + resolve_timeout, true),
    };
    if ends_at < starts_at {
        return Err(format!("endsAt {ends_at} is before startsAt {starts_at} (labels {labels:?})"));
    }
    let fingerprint = fingerprint(&labels);
    Ok(Alert {
        labels,
        annotations: p.annotations,
        starts_at,
        ends_at,
        updated_at: now,
        generator_url: p.generator_url,
        timeout,
        fingerprint,
    })
}

#[derive(Debug, thiserror::Error)]
#[error("too many alerts: the notifier keeps at most {0}")]
pub struct StoreFull(pub usize);

/// Alerts by fingerprint.
#[derive(Debug)]
pub struct AlertStore {
    alerts: HashMap<u64, Alert>,
    max: usize,
}

impl AlertStore {
    pub fn new(max: usize) -> Self {
        AlertStore { alerts: HashMap::new(), max }
    }

    /// Merges an alert with the one of the same fingerprint, if their active periods touch
    /// (the earliest `startsAt` is kept, the newest `endsAt` and annotations win); otherwise
    /// it replaces it. Returns the stored alert.
    pub fn merge(&mut self, a: Alert, now: Timestamp) -> Result<Alert, StoreFull> {
        if !self.alerts.contains_key(&a.fingerprint) && self.alerts.len() >= self.max {
            return Err(StoreFull(self.max));
        }
        let merged = match self.alerts.get(&a.fingerprint) {
            Some(old) if old.ends_at >= a.starts_at && !(old.resolved(now) && a.starts_at > old.ends_at) => {
                let mut m = a;
                m.starts_at = m.starts_at.min(old.starts_at);
                // A resolve-timeout guess never shortens an explicit end still in the future.
                if m.timeout && !old.timeout && old.ends_at > m.ends_at {
                    m.ends_at = old.ends_at;
                    m.timeout = false;
                }
                m
            }
            _ => a,
        };
        self.alerts.insert(merged.fingerprint, merged.clone());
        Ok(merged)
    }

    pub fn get(&self, fp: u64) -> Option<&Alert> {
        self.alerts.get(&fp)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.values()
    }

    pub fn len(&self) -> usize {
        self.alerts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// Drops alerts resolved more than `keep` ago.
    pub fn gc(&mut self, now: Timestamp, keep: Duration) -> usize {
        let before = self.alerts.len();
        self.alerts.retain(|_, a| a.ends_at + keep > now);
        before - self.alerts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(labels: &[(&str, &str)], s: Option<&str>, e: Option<&str>) -> PostableAlert {
        PostableAlert {
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            starts_at: s.map(|s| s.parse().unwrap()),
            ends_at: e.map(|s| s.parse().unwrap()),
            ..Default::default()
        }
    }

    #[test]
    fn fingerprint_is_alertmanagers() {
        // Alertmanager's fingerprint of {} is the FNV-1a offset basis; of {a="b"} this value.
        assert_eq!(fingerprint(&BTreeMap::new()), 0xcbf29ce484222325);
        let l: BTreeMap<_, _> = [("alertname".to_string(), "X".to_string())].into();
        assert_eq!(fingerprint(&l), fingerprint(&l.clone()));
        let l2: BTreeMap<_, _> = [("alertname".to_string(), "Y".to_string())].into();
        assert_ne!(fingerprint(&l), fingerprint(&l2));
    }

    #[test]
    fn merge_and_timeout() {
        let now: Timestamp = "2026-01-01T00:10:00Z".parse().unwrap();
        let rt = Duration::from_secs(300);
        let mut s = AlertStore::new(10);
        let a = validate(post(&[("alertname", "X")], Some("2026-01-01T00:00:00Z"), None), now, rt).unwrap();
        assert!(a.timeout);
        assert_eq!(a.ends_at, "2026-01-01T00:15:00Z".parse().unwrap());
        s.merge(a, now).unwrap();
        let later = now + Duration::from_secs(60);
        let b = validate(post(&[("alertname", "X")], Some("2026-01-01T00:05:00Z"), None), later, rt).unwrap();
        let m = s.merge(b, later).unwrap();
        assert_eq!(m.starts_at, "2026-01-01T00:00:00Z".parse().unwrap());
        assert_eq!(s.len(), 1);
        assert!(validate(post(&[], None, None), now, rt).unwrap_err().contains("no labels"));
        assert!(validate(post(&[("1x", "a")], None, None), now, rt).unwrap_err().contains("invalid label name"));
        assert!(
            validate(post(&[("a", "b")], Some("2026-01-01T00:05:00Z"), Some("2026-01-01T00:01:00Z")), now, rt).is_err()
        );
        let c = validate(post(&[("alertname", "Y")], None, None), now, rt).unwrap();
        let mut full = AlertStore::new(1);
        full.merge(s.get(m.fingerprint).unwrap().clone(), now).unwrap();
        assert!(full.merge(c, now).is_err());
        assert_eq!(s.gc(now + Duration::from_secs(3600), Duration::from_secs(60)), 1);
    }
}
