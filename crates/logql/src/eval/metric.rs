//! The walk over a metric expression: one vector per step, or a scalar.

use model::Labels;

use super::EngineError;
use super::binop::{literal_binop, vector_binop};
use super::context::Ctx;
use super::query::Vector;
use super::range::eval_range_agg;
use super::vector_agg::{Groups, vector_agg};
use crate::arith::fold_literals;
use crate::ast::*;
use crate::pipeline::labels::sorted_labels;
use crate::regexes::expand_go;

pub(crate) enum Value {
    Scalar(f64),
    /// One vector per evaluation step.
    Steps(Vec<Vector>),
}

pub(crate) fn eval_metric(ctx: &mut Ctx, e: &Expr, steps: &[i64]) -> Result<Value, EngineError> {
    match e {
        Expr::Literal(v) => Ok(Value::Scalar(*v)),
        Expr::Vector(v) => Ok(Value::Steps(steps.iter().map(|_| vec![(Labels::empty(), *v)]).collect())),
        Expr::Log(_) => Err(EngineError::BadRequest("unexpected log query in metric expression".into())),
        Expr::RangeAgg(r) => eval_range_agg(ctx, r, steps, None).map(Value::Steps),
        Expr::VectorAgg(v) => {
            let mut groups = Groups::default();
            // Loki pushes a `sum` grouping down into count/rate/bytes/sum range aggregations.
            if v.op == VecOp::Sum
                && let Expr::RangeAgg(r) = v.inner.as_ref()
                && r.grouping.is_none()
                && matches!(r.op, RangeOp::Bytes | RangeOp::BytesRate | RangeOp::Sum | RangeOp::Rate | RangeOp::Count)
            {
                let inner = eval_range_agg(ctx, r, steps, Some(&v.grouping))?;
                return Ok(Value::Steps(inner.into_iter().map(|vec| vector_agg(v, vec, &mut groups)).collect()));
            }
            let inner = match eval_metric(ctx, &v.inner, steps)? {
                Value::Scalar(x) => steps.iter().map(|_| vec![(Labels::empty(), x)]).collect(),
                Value::Steps(s) => s,
            };
            Ok(Value::Steps(inner.into_iter().map(|vec| vector_agg(v, vec, &mut groups)).collect()))
        }
        Expr::LabelReplace(lr) => {
            let re = model::goregex::compile(&format!("^(?:{})$", lr.regex))
                .map_err(|e| EngineError::BadRequest(format!("invalid regex in label_replace: {e}")))?;
            let inner = match eval_metric(ctx, &lr.inner, steps)? {
                Value::Scalar(x) => steps.iter().map(|_| vec![(Labels::empty(), x)]).collect(),
                Value::Steps(s) => s,
            };
            Ok(Value::Steps(
                inner
                    .into_iter()
                    .map(|vec| vec.into_iter().map(|(l, v)| (label_replace(l, lr, &re), v)).collect())
                    .collect(),
            ))
        }
        Expr::BinOp(b) => {
            let l = eval_metric(ctx, &b.lhs, steps)?;
            let r = eval_metric(ctx, &b.rhs, steps)?;
            match (l, r) {
                (Value::Scalar(a), Value::Scalar(c)) => Ok(Value::Scalar(fold_literals(b.op, a, c))),
                (Value::Steps(v), Value::Scalar(x)) => Ok(Value::Steps(
                    v.into_iter().map(|vec| literal_binop(b.op, b.opts.return_bool, vec, x, false)).collect(),
                )),
                (Value::Scalar(x), Value::Steps(v)) => Ok(Value::Steps(
                    v.into_iter().map(|vec| literal_binop(b.op, b.opts.return_bool, vec, x, true)).collect(),
                )),
                (Value::Steps(lv), Value::Steps(rv)) => {
                    let mut out = Vec::with_capacity(lv.len());
                    for (a, c) in lv.into_iter().zip(rv) {
                        out.push(vector_binop(b, a, c)?);
                    }
                    Ok(Value::Steps(out))
                }
            }
        }
    }
}

fn label_replace(l: Labels, lr: &LabelReplace, re: &regex::Regex) -> Labels {
    let src = l.get(&lr.src).unwrap_or("");
    let Some(caps) = re.captures(src) else { return l };
    let val = expand_go(&lr.replacement, &caps);
    let mut v = l.into_vec();
    v.retain(|(k, _)| *k != lr.dst);
    if !val.is_empty() {
        v.push((lr.dst.clone(), val));
    }
    sorted_labels(v)
}
