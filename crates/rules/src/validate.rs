//! Validation of rule files: every refusal names the namespace, the group, the rule (index
//! and name) and the field, and for LogQL the position of the parse error.

use std::collections::HashSet;

use crate::file::{Rule, RuleFile, RuleGroup};
use crate::template;

/// Checks a namespace file.
pub fn validate_file(namespace: &str, file: &RuleFile) -> Result<(), String> {
    let mut seen = HashSet::new();
    for g in &file.groups {
        if !seen.insert(g.name.as_str()) {
            return Err(format!("namespace {namespace:?}: groupname: {:?} is repeated in the same file", g.name));
        }
        validate_group(namespace, g)?;
    }
    Ok(())
}

/// Checks one group.
pub fn validate_group(namespace: &str, g: &RuleGroup) -> Result<(), String> {
    if g.name.trim().is_empty() {
        return Err(format!("namespace {namespace:?}: groupname must not be empty"));
    }
    if g.interval.is_some_and(|i| i.0.is_zero()) {
        return Err(format!("namespace {namespace:?}, group {:?}: interval: must be greater than 0", g.name));
    }
    for (i, r) in g.rules.iter().enumerate() {
        validate_rule(r).map_err(|e| {
            let name = r.name();
            let which = if name.is_empty() { format!("rule {}", i + 1) } else { format!("rule {} ({name:?})", i + 1) };
            format!("namespace {namespace:?}, group {:?}, {which}: {e}", g.name)
        })?;
    }
    Ok(())
}

fn validate_rule(r: &Rule) -> Result<(), String> {
    match (&r.alert, &r.record) {
        (Some(_), Some(_)) => return Err("only one of 'record' and 'alert' must be set".into()),
        (None, None) => return Err("one of 'record' or 'alert' must be set".into()),
        (Some(a), None) if a.trim().is_empty() => return Err("alert: must not be empty".into()),
        (None, Some(rec)) if !is_metric_name(rec) => {
            return Err(format!("record: invalid recording rule name: {rec:?}"));
        }
        _ => {}
    }
    if r.expr.trim().is_empty() {
        return Err("expr: field 'expr' must be set in rule".into());
    }
    let expr = logql::parse(&r.expr).map_err(|e| format!("expr: {e}"))?;
    if expr.is_log_query() {
        return Err(format!(
            "expr: {:?} is a log query; rules need a metric query (e.g. sum(count_over_time({{app=\"x\"}}[5m])) > 10)",
            r.expr
        ));
    }
    if r.record.is_some() {
        if r.for_.is_some() {
            return Err("for: invalid field 'for' in recording rule".into());
        }
        if r.keep_firing_for.is_some() {
            return Err("keep_firing_for: invalid field 'keep_firing_for' in recording rule".into());
        }
        if !r.annotations.is_empty() {
            return Err("annotations: invalid field 'annotations' in recording rule".into());
        }
    }
    for (k, v) in &r.labels {
        if !is_label_name(k) || k == "__name__" && r.record.is_none() {
            return Err(format!("labels: invalid label name: {k:?}"));
        }
        if r.is_alerting() {
            template::check(v).map_err(|e| format!("labels.{k}: {e}"))?;
        }
    }
    for (k, v) in &r.annotations {
        if !is_label_name(k) {
            return Err(format!("annotations: invalid annotation name: {k:?}"));
        }
        template::check(v).map_err(|e| format!("annotations.{k}: {e}"))?;
    }
    Ok(())
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn is_metric_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub fn is_label_name(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_') && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::parse_file;

    fn err(y: &str) -> String {
        validate_file("ns", &parse_file(y).unwrap()).unwrap_err()
    }

    #[test]
    fn refusals_name_the_place_and_the_field() {
        let e = err("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(rate({app=\"a\"}[1m]) >\n");
        assert!(
            e.starts_with("namespace \"ns\", group \"g\", rule 1 (\"A\"): expr: parse error at line 1, col"),
            "{e}"
        );
        let e = err("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: '{app=\"a\"} |= \"x\"'\n");
        assert!(e.contains("expr:") && e.contains("log query"), "{e}");
        let e = err("groups:\n- name: g\n  rules:\n  - alert: A\n    record: b\n    expr: vector(1)\n");
        assert!(e.contains("rule 1 (\"A\"): only one of 'record' and 'alert'"), "{e}");
        let e = err("groups:\n- name: g\n  rules:\n  - expr: vector(1)\n");
        assert!(e.contains("rule 1: one of 'record' or 'alert' must be set"), "{e}");
        let e = err("groups:\n- name: g\n  rules:\n  - record: 'bad-name'\n    expr: vector(1)\n");
        assert!(e.contains("record: invalid recording rule name"), "{e}");
        let e = err("groups:\n- name: g\n  rules: []\n- name: g\n  rules: []\n");
        assert!(e.contains("\"g\" is repeated"), "{e}");
        let e = err("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: vector(1)\n    labels: {'1x': y}\n");
        assert!(e.contains("labels: invalid label name: \"1x\""), "{e}");
        let e = err(
            "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: vector(1)\n  - alert: B\n    expr: vector(1)\n    annotations: {s: '{{ query \"up\" }}'}\n",
        );
        assert!(e.contains("rule 2 (\"B\"): annotations.s: template"), "{e}");
        let e = err("groups:\n- name: g\n  rules:\n  - record: r\n    expr: vector(1)\n    for: 1m\n");
        assert!(e.contains("for: invalid field 'for' in recording rule"), "{e}");
        assert!(
            validate_file(
                "ns",
                &parse_file(
                    "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(count_over_time({app=\"a\"}[5m])) > 3\n"
                )
                .unwrap()
            )
            .is_ok()
        );
    }
}
