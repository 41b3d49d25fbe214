//! LogQL's arithmetic and comparison operators on two numbers, shared by the parser (constant
//! folding of `1 + 2`) and the evaluator (binary operations on samples).

use crate::ast::BinOp;

/// Folds `a op b` for two literals (comparisons give 1/0, division by zero NaN).
pub(crate) fn fold_literals(op: BinOp, a: f64, b: f64) -> f64 {
    arith(op, a, b).unwrap_or_else(|| if cmp(op, a, b) { 1.0 } else { 0.0 })
}

pub(crate) fn arith(op: BinOp, a: f64, b: f64) -> Option<f64> {
    Some(match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => {
            if b == 0.0 {
                f64::NAN
            } else {
                a / b
            }
        }
        BinOp::Mod => {
            if b == 0.0 {
                f64::NAN
            } else {
                a % b
            }
        }
        BinOp::Pow => a.powf(b),
        _ => return None,
    })
}

pub(crate) fn cmp(op: BinOp, a: f64, b: f64) -> bool {
    match op {
        BinOp::CmpEq => a == b,
        BinOp::Neq => a != b,
        BinOp::Gt => a > b,
        BinOp::Gte => a >= b,
        BinOp::Lt => a < b,
        BinOp::Lte => a <= b,
        _ => false,
    }
}
