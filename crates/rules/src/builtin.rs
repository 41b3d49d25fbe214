//! Ready-made rule files, embedded in the binary and off until a user installs one through the
//! ruler API (the UI offers them from `GET /api/alerting/templates`).

use serde::Serialize;

/// A ready-made rule file.
#[derive(Debug, Clone, Serialize)]
pub struct BuiltinRules {
    pub name: &'static str,
    pub namespace: &'static str,
    pub description: &'static str,
    pub yaml: &'static str,
}

/// Every ready-made rule file.
pub fn builtin_rules() -> Vec<BuiltinRules> {
    vec![BuiltinRules {
        name: "dokku",
        namespace: "dokku",
        description: "Dokku hosts: an app's error rate jumping, a container crash-looping, an app silent for longer than usual.",
        yaml: include_str!("dokku.yaml"),
    }]
}
