//! A recording rule's output: each result sample renamed to `record`, with the rule's labels.

use std::collections::{BTreeMap, BTreeSet};

/// One output series: sorted labels (with `__name__`) and its value.
pub type Recorded = (BTreeMap<String, String>, f64);

/// Names the samples; fails (as Prometheus does) on label-set clashes and on `limit`.
pub fn record(
    name: &str,
    rule_labels: &BTreeMap<String, String>,
    samples: Vec<(model::Labels, f64)>,
    limit: usize,
) -> Result<Vec<Recorded>, String> {
    let mut out = Vec::with_capacity(samples.len());
    let mut seen = BTreeSet::new();
    for (series, v) in samples {
        let mut l: BTreeMap<String, String> = series.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        l.insert("__name__".into(), name.to_string());
        for (k, v) in rule_labels {
            if v.is_empty() {
                l.remove(k);
            } else {
                l.insert(k.clone(), v.clone());
            }
        }
        if !seen.insert(l.clone()) {
            return Err("vector contains metrics with the same labelset after applying rule labels".into());
        }
        out.push((l, v));
    }
    if limit > 0 && out.len() > limit {
        return Err(format!("exceeded limit {limit} with {} series", out.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_labels_and_limits() {
        let s = vec![
            (model::Labels::from_pairs([("app", "a")]).unwrap(), 1.0),
            (model::Labels::from_pairs([("app", "b")]).unwrap(), 2.0),
        ];
        let rl: BTreeMap<String, String> = [("env".to_string(), "prod".to_string())].into();
        let r = record("app:lines:rate5m", &rl, s.clone(), 0).unwrap();
        assert_eq!(r[1].0["__name__"], "app:lines:rate5m");
        assert_eq!(r[1].0["env"], "prod");
        assert_eq!(r[1].1, 2.0);
        assert_eq!(record("x", &rl, s.clone(), 1).unwrap_err(), "exceeded limit 1 with 2 series");
        let clash: BTreeMap<String, String> = [("app".to_string(), "same".to_string())].into();
        assert!(record("x", &clash, s, 0).unwrap_err().contains("same labelset"));
    }
}
