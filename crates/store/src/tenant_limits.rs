//! Limits per tenant: Loki's `overrides` (its runtime configuration's per-tenant limits), each
//! tenant's limits being the defaults (`limits`) with the keys its override names replaced.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::config::Limits;

/// The default limits and the tenants that have their own.
#[derive(Debug, Clone, Default)]
pub struct TenantLimits {
    default: Arc<Limits>,
    tenants: HashMap<String, Arc<Limits>>,
}

impl TenantLimits {
    /// Every tenant under the same limits.
    pub fn uniform(default: Limits) -> TenantLimits {
        TenantLimits { default: Arc::new(default), tenants: HashMap::new() }
    }

    /// `default` for every tenant but those in `overrides` (tenant → the limit keys it sets,
    /// as `limits` spells them). An unknown key or a wrong value is refused with the tenant
    /// and the key named.
    pub fn resolve(default: Limits, overrides: &BTreeMap<String, serde_json::Value>) -> Result<TenantLimits, String> {
        let base = serde_json::to_value(&default).map_err(|e| format!("limits: {e}"))?;
        let mut tenants = HashMap::new();
        for (tenant, keys) in overrides {
            if tenant.is_empty() {
                return Err("overrides: a tenant's name is empty".into());
            }
            let serde_json::Value::Object(keys) = keys else {
                return Err(format!("overrides.{tenant}: expected a mapping of limits, found {keys}"));
            };
            let mut merged = base.clone();
            if let serde_json::Value::Object(m) = &mut merged {
                m.extend(keys.clone());
            }
            let limits: Limits = serde_path_to_error::deserialize(merged).map_err(|e| {
                let at = e.path().to_string();
                let at = if at == "." { String::new() } else { format!(".{at}") };
                format!("overrides.{tenant}{at}: {}", e.inner())
            })?;
            tenants.insert(tenant.clone(), Arc::new(limits));
        }
        Ok(TenantLimits { default: Arc::new(default), tenants })
    }

    /// The limits `tenant` is held to.
    pub fn of(&self, tenant: &str) -> &Arc<Limits> {
        self.tenants.get(tenant).unwrap_or(&self.default)
    }

    /// The tenants with limits of their own.
    pub fn tenants(&self) -> impl Iterator<Item = &str> {
        self.tenants.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tenant_overrides_only_what_it_names() {
        let overrides: BTreeMap<String, serde_json::Value> = serde_json::from_value(json!({
            "team-a": {"ingestion_rate_mb": 16, "otlp_config": {"resource_attributes": {"attributes_config": [
                {"action": "index_label", "attributes": ["service.version"]}]}}},
        }))
        .unwrap();
        let t = TenantLimits::resolve(Limits::default(), &overrides).unwrap();
        assert_eq!(t.of("team-a").ingestion_rate_mb, 16.0);
        assert_eq!(t.of("team-a").max_line_size, Limits::default().max_line_size);
        assert_eq!(t.of("other").ingestion_rate_mb, Limits::default().ingestion_rate_mb);
        assert_eq!(t.tenants().collect::<Vec<_>>(), ["team-a"]);
    }

    #[test]
    fn bad_overrides_name_the_tenant_and_the_key() {
        let bad = |v: serde_json::Value| {
            TenantLimits::resolve(Limits::default(), &serde_json::from_value(v).unwrap()).unwrap_err()
        };
        let e = bad(json!({"team-a": {"ingestion_rate": 1}}));
        assert!(e.starts_with("overrides.team-a.ingestion_rate: unknown field `ingestion_rate`"), "{e}");
        let e = bad(json!({"team-a": {"max_line_size": "big"}}));
        assert!(e.starts_with("overrides.team-a.max_line_size: invalid type"), "{e}");
        assert_eq!(bad(json!({"team-a": 3})), "overrides.team-a: expected a mapping of limits, found 3");
    }
}
