//! Stages that cannot change a count, taken out before a range aggregation decides how to read:
//! Grafana adds them to the queries it sends most (Explore's log volume is
//! `sum by (level, detected_level) (count_over_time({...} |= "" | drop __error__ [$__auto]))`),
//! and left in, they would make every line be read where block metadata answers.

use std::borrow::Cow;

use crate::ast::{LineFilterOp, Stage};

/// The labels a pipeline error sets.
const ERROR_LABELS: [&str; 2] = ["__error__", "__error_details__"];

/// `stages` without those that keep every line as it is and cannot change its series:
/// - `|= ""` (and a `|=` with `""` among its alternatives): every line contains it;
/// - `drop __error__, __error_details__` after nothing but line filters (which set no error),
///   when `series_by` (the labels the series keep, `None`: all of them) names neither label.
pub(crate) fn without_noops<'a>(stages: &'a [Stage], series_by: Option<&[String]>) -> Cow<'a, [Stage]> {
    let error_labels_unused = series_by.is_some_and(|by| !by.iter().any(|l| ERROR_LABELS.contains(&l.as_str())));
    let mut only_filters_before = true;
    let keep = |s: &Stage, only_filters_before: bool| match s {
        Stage::LineFilter(lf) => {
            !(lf.op == LineFilterOp::Contains && lf.args.iter().any(|a| !a.ip && a.value.is_empty()))
        }
        Stage::Drop(names) => {
            let errors_only = names.iter().all(|n| n.matcher.is_none() && ERROR_LABELS.contains(&n.name.as_str()));
            !(errors_only && only_filters_before && error_labels_unused)
        }
        _ => true,
    };
    let mut kept = Vec::new();
    let mut changed = false;
    for s in stages {
        if keep(s, only_filters_before) {
            kept.push(s.clone());
        } else {
            changed = true;
        }
        only_filters_before &= matches!(s, Stage::LineFilter(_) | Stage::Drop(_));
    }
    if changed { Cow::Owned(kept) } else { Cow::Borrowed(stages) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages(q: &str) -> Vec<Stage> {
        match crate::parser::parse(&format!("count_over_time({{a=\"b\"}} {q} [1m])")).unwrap() {
            crate::ast::Expr::RangeAgg(r) => r.range.log.stages,
            e => panic!("{e:?}"),
        }
    }

    fn left(q: &str, by: Option<&[String]>) -> String {
        let s = stages(q);
        without_noops(&s, by).iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn grafanas_volume_query_counts_without_a_pipeline() {
        let by = ["level".to_string(), "detected_level".to_string()];
        assert_eq!(left(r#"|= "" | drop __error__"#, Some(&by)), "");
        assert_eq!(left(r#"| drop __error__, __error_details__ |= "x""#, Some(&by)), left(r#"|= "x""#, None));
        // Kept: the series keep every label, or the error label; a parser may set it; a
        // drop with a value, or of another label; a filter that does filter.
        assert_ne!(left("| drop __error__", None), "");
        assert_ne!(left("| drop __error__", Some(&["__error__".to_string()])), "");
        assert_eq!(left("| json | drop __error__", Some(&by)), left("| json | drop __error__", None));
        assert_ne!(left(r#"| drop __error__="x""#, Some(&by)), "");
        assert_ne!(left("| drop level", Some(&by)), "");
        assert_ne!(left(r#"!= """#, Some(&by)), "");
        assert_eq!(left(r#"|= "a" or """#, Some(&by)), "");
    }
}
