//! The query endpoints the proxy lets through, per data source type: reading only, never
//! admin, write or configuration endpoints.

use crate::source::Kind;

const PROMETHEUS: [&str; 8] = [
    "api/v1/query",
    "api/v1/query_range",
    "api/v1/series",
    "api/v1/labels",
    "api/v1/label/*/values",
    "api/v1/metadata",
    "api/v1/query_exemplars",
    "api/v1/status/buildinfo",
];

const LOKI: [&str; 15] = [
    "loki/api/v1/query",
    "loki/api/v1/query_range",
    "loki/api/v1/labels",
    "loki/api/v1/label",
    "loki/api/v1/label/*/values",
    "loki/api/v1/series",
    "loki/api/v1/index/stats",
    "loki/api/v1/index/volume",
    "loki/api/v1/index/volume_range",
    "loki/api/v1/detected_labels",
    "loki/api/v1/detected_fields",
    "loki/api/v1/patterns",
    "loki/api/v1/format_query",
    "loki/api/v1/status/buildinfo",
    "loki/api/v1/detected_field/*/values",
];

/// Whether `path` (without a leading `/`, already percent-decoded) is a query endpoint of
/// `kind`. `*` in a pattern is one segment that is neither empty nor `.`/`..`.
pub fn allowed_path(kind: Kind, path: &str) -> bool {
    let path = path.trim_start_matches('/');
    let segs: Vec<&str> = path.split('/').collect();
    if segs.iter().any(|s| s.is_empty() || *s == "." || *s == "..") {
        return false;
    }
    let list: &[&str] = match kind {
        Kind::Prometheus => &PROMETHEUS,
        Kind::Loki => &LOKI,
    };
    list.iter().any(|p| {
        let pat: Vec<&str> = p.split('/').collect();
        pat.len() == segs.len() && pat.iter().zip(&segs).all(|(p, s)| *p == "*" || p == s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_queries() {
        assert!(allowed_path(Kind::Prometheus, "api/v1/query"));
        assert!(allowed_path(Kind::Prometheus, "/api/v1/label/job/values"));
        assert!(!allowed_path(Kind::Prometheus, "api/v1/admin/tsdb/delete_series"));
        assert!(!allowed_path(Kind::Prometheus, "api/v1/write"));
        assert!(!allowed_path(Kind::Prometheus, "api/v1/label/../../-/quit/values"));
        assert!(!allowed_path(Kind::Prometheus, "api/v1/query/"));
        assert!(allowed_path(Kind::Loki, "loki/api/v1/query_range"));
        assert!(allowed_path(Kind::Loki, "loki/api/v1/label/app/values"));
        assert!(!allowed_path(Kind::Loki, "loki/api/v1/push"));
        assert!(!allowed_path(Kind::Loki, "api/v1/query"));
        assert!(!allowed_path(Kind::Loki, "loki/api/v1/tail"));
    }
}
