//! One data source: what provisioning declares, and the view `GET /api/datasources` gives of it
//! (secrets replaced by `secureJsonFields: {name: true}`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// The query languages the proxy knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Prometheus,
    Loki,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "prometheus" => Some(Kind::Prometheus),
            "loki" => Some(Kind::Loki),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Prometheus => "prometheus",
            Kind::Loki => "loki",
        }
    }
}

/// A data source, with its secrets.
#[derive(Debug, Clone)]
pub struct DataSource {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub kind: Kind,
    /// Base URL of the server; empty for the built-in one.
    pub url: String,
    pub is_default: bool,
    pub basic_auth: bool,
    pub basic_auth_user: String,
    pub json_data: Map<String, Value>,
    /// `secureJsonData`: never shown, only used by the proxy.
    pub secure_json_data: BTreeMap<String, String>,
    /// This server's own store.
    pub builtin: bool,
}

impl DataSource {
    /// The built-in data source: Bitácora's own store.
    pub fn builtin() -> DataSource {
        DataSource {
            id: 1,
            uid: crate::BUILTIN_UID.into(),
            name: "Bitácora".into(),
            kind: Kind::Loki,
            url: String::new(),
            is_default: true,
            basic_auth: false,
            basic_auth_user: String::new(),
            json_data: Map::new(),
            secure_json_data: BTreeMap::new(),
            builtin: true,
        }
    }

    /// Grafana's JSON for it, secrets masked.
    pub fn to_json(&self) -> Value {
        let secure: Map<String, Value> = self.secure_json_data.keys().map(|k| (k.clone(), Value::Bool(true))).collect();
        json!({
            "id": self.id,
            "uid": self.uid,
            "orgId": 1,
            "name": self.name,
            "type": self.kind.as_str(),
            "typeName": if self.kind == Kind::Loki { "Loki" } else { "Prometheus" },
            "url": self.url,
            "access": "proxy",
            "isDefault": self.is_default,
            "basicAuth": self.basic_auth,
            "basicAuthUser": self.basic_auth_user,
            "jsonData": self.json_data,
            "secureJsonFields": secure,
            "readOnly": true,
        })
    }

    /// `jsonData.timeout` (seconds, as Grafana reads it), else 30 s.
    pub fn timeout(&self) -> std::time::Duration {
        let secs = match self.json_data.get("timeout") {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match secs {
            Some(s) if s > 0.0 && s < 3600.0 => std::time::Duration::from_secs_f64(s),
            _ => std::time::Duration::from_secs(30),
        }
    }

    /// Extra headers from `jsonData.httpHeaderNameN` and `secureJsonData.httpHeaderValueN`.
    pub fn extra_headers(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for n in 1.. {
            let Some(Value::String(name)) = self.json_data.get(&format!("httpHeaderName{n}")) else { break };
            let value = self.secure_json_data.get(&format!("httpHeaderValue{n}")).cloned().unwrap_or_default();
            out.push((name.clone(), value));
        }
        out
    }
}
