//! Binary operators between vectors and literals: arithmetic, comparisons (with `bool`),
//! `and`/`or`/`unless`, `on`/`ignoring` and `group_left`/`group_right` matching.

use std::collections::{HashMap, HashSet};

use model::Labels;

use super::EngineError;
use super::query::Vector;
use crate::arith::{arith, cmp};
use crate::ast::*;
use crate::pipeline::labels::sorted_labels;

pub(crate) fn literal_binop(op: BinOp, return_bool: bool, vec: Vector, lit: f64, lit_left: bool) -> Vector {
    let mut out = Vec::with_capacity(vec.len());
    for (l, v) in vec {
        let (a, b) = if lit_left { (lit, v) } else { (v, lit) };
        if op.is_comparison() {
            let t = cmp(op, a, b);
            if return_bool {
                out.push((l, if t { 1.0 } else { 0.0 }));
            } else if t {
                out.push((l, v));
            }
        } else if let Some(r) = arith(op, a, b) {
            out.push((l, r));
        }
    }
    out
}

fn signature(l: &Labels, o: &BinOpOptions) -> Labels {
    match &o.matching {
        _ if o.on => {
            let keep = o.matching.clone().unwrap_or_default();
            Labels::from_sorted(
                l.iter()
                    .filter(|(k, _)| keep.iter().any(|x| x == k))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        }
        Some(m) => Labels::from_sorted(
            l.iter().filter(|(k, _)| !m.iter().any(|x| x == k)).map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ),
        None => l.clone(),
    }
}

fn result_metric(lhs: &Labels, rhs: &Labels, o: &BinOpOptions) -> Labels {
    let mut v: Vec<(String, String)> = lhs.as_slice().to_vec();
    if o.card == Card::OneToOne {
        if o.on {
            let keep = o.matching.clone().unwrap_or_default();
            v.retain(|(k, _)| keep.contains(k));
        } else if let Some(m) = &o.matching {
            v.retain(|(k, _)| !m.contains(k));
        }
    }
    if let Some(inc) = &o.include {
        for ln in inc {
            v.retain(|(k, _)| k != ln);
            if let Some(val) = rhs.get(ln)
                && !val.is_empty()
            {
                v.push((ln.clone(), val.to_string()));
            }
        }
    }
    sorted_labels(v)
}

pub(crate) fn vector_binop(b: &BinOpExpr, lhs: Vector, rhs: Vector) -> Result<Vector, EngineError> {
    let o = &b.opts;
    let lsig: Vec<Labels> = lhs.iter().map(|(l, _)| signature(l, o)).collect();
    let rsig: Vec<Labels> = rhs.iter().map(|(l, _)| signature(l, o)).collect();
    match b.op {
        BinOp::And => {
            if lhs.is_empty() || rhs.is_empty() {
                return Ok(vec![]);
            }
            let right: HashSet<&Labels> = rsig.iter().collect();
            return Ok(lhs.into_iter().zip(&lsig).filter(|(_, s)| right.contains(s)).map(|(x, _)| x).collect());
        }
        BinOp::Or => {
            if lhs.is_empty() {
                return Ok(rhs);
            }
            if rhs.is_empty() {
                return Ok(lhs);
            }
            let left: HashSet<&Labels> = lsig.iter().collect();
            let mut out = Vec::with_capacity(lhs.len() + rhs.len());
            out.extend(lhs);
            for (x, s) in rhs.into_iter().zip(&rsig) {
                if !left.contains(s) {
                    out.push(x);
                }
            }
            return Ok(out);
        }
        BinOp::Unless => {
            if lhs.is_empty() || rhs.is_empty() {
                return Ok(lhs);
            }
            let right: HashSet<&Labels> = rsig.iter().collect();
            return Ok(lhs.into_iter().zip(&lsig).filter(|(_, s)| !right.contains(s)).map(|(x, _)| x).collect());
        }
        _ => {}
    }
    let (lhs, rhs, lsig, rsig, swapped) =
        if o.card == Card::OneToMany { (rhs, lhs, rsig, lsig, true) } else { (lhs, rhs, lsig, rsig, false) };
    let mut right: HashMap<&Labels, usize> = HashMap::new();
    for (i, s) in rsig.iter().enumerate() {
        if right.insert(s, i).is_some() {
            let side = if o.card == Card::OneToMany { "left" } else { "right" };
            return Err(EngineError::BadRequest(format!(
                "found duplicate series on the {side} hand-side;many-to-many matching not allowed: matching labels must be unique on one side"
            )));
        }
    }
    let mut matched: HashMap<&Labels, Vec<Labels>> = HashMap::new();
    let mut out = Vec::new();
    for (i, (ll, lv)) in lhs.iter().enumerate() {
        let sig = &lsig[i];
        let Some(&ri) = right.get(sig) else { continue };
        let (rl, rv) = &rhs[ri];
        let metric = result_metric(ll, rl, o);
        if o.card == Card::OneToOne {
            if matched.contains_key(sig) {
                return Err(EngineError::BadRequest(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                        .into(),
                ));
            }
            matched.insert(sig, vec![]);
        } else {
            let e = matched.entry(sig).or_default();
            if e.contains(&metric) {
                return Err(EngineError::BadRequest(
                    "multiple matches for labels: grouping labels must ensure unique matches".into(),
                ));
            }
            e.push(metric.clone());
        }
        let (a, c) = if swapped { (*rv, *lv) } else { (*lv, *rv) };
        if b.op.is_comparison() {
            let t = cmp(b.op, a, c);
            if o.return_bool {
                out.push((metric, if t { 1.0 } else { 0.0 }));
            } else if t {
                out.push((metric, a));
            }
        } else if let Some(r) = arith(b.op, a, c) {
            out.push((metric, r));
        }
    }
    Ok(out)
}
