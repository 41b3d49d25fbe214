//! The one typed configuration: read from a YAML file, then overridden by `BITACORA_*`
//! environment variables, then by command-line flags.
//!
//! Every key can be set from the environment: `BITACORA_LISTEN`, `BITACORA_DATA_DIR`, and for
//! nested keys a double underscore between levels, e.g. `BITACORA_STORE__RETENTION_PERIOD=7d`
//! or `BITACORA_LIMITS__INGESTION_RATE_MB=16`. A list is given as YAML or JSON in one variable
//! (`BITACORA_AUTH__USERS='[{username: ann, password_hash: "$argon2id$..."}]'`), or, for plain
//! words, separated by commas (`BITACORA_AUTH__OPEN_PATHS=/ready,/metrics`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address of the HTTP server (API and UI).
    pub listen: SocketAddr,
    /// Where the WAL and segments live.
    pub data_dir: PathBuf,
    /// Log level filter for Bitácora's own logs (tracing's `EnvFilter` syntax).
    pub log_level: String,
    pub api: api::ApiConfig,
    pub store: store::StoreConfig,
    pub limits: store::Limits,
    /// Per-tenant limits, as Loki's runtime configuration has them: tenant → the `limits` keys it
    /// sets differently (`overrides: {team-a: {ingestion_rate_mb: 16, otlp_config: {...}}}`).
    pub overrides: std::collections::BTreeMap<String, serde_json::Value>,
    pub agent: agent::AgentConfig,
    /// Users, tokens, open paths, trusted proxy (the `auth` crate).
    pub auth: auth::AuthConfig,
    /// HTTPS on the listener.
    pub tls: crate::tls::TlsConfig,
    /// Alerting and recording rules (Loki's ruler; the `rules` crate).
    pub ruler: rules::RulerConfig,
    /// The built-in notifier, for hosts without an Alertmanager (the `alertmanager` crate).
    pub alerting: alertmanager::AlertingConfig,
    /// Dashboards and data sources: a Grafana provisioning directory.
    pub dashboards: crate::dashboards::DashboardsConfig,
    /// The apps page's API: how long stats streams stay open, the answer's time bound.
    pub apps: apps::AppsConfig,
    /// Log deletion: the delete API's cancel period and sharding (the `deletes` crate).
    pub deletes: deletes::DeletesConfig,
    /// This node among others sharing a bucket (`store.object_store`).
    pub cluster: ClusterConfig,
}

/// `cluster`: how this node names itself to the others sharing its bucket.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// This writer's name: its objects go under `<prefix>/<node_id>/` (default: the host name).
    pub node_id: String,
    /// The URL other nodes reach this one at (default: `http(s)://<listen>`, with the host
    /// name when listening on all interfaces).
    pub advertise_url: String,
    /// A bearer token (with the read scope, see `auth.tokens`) this node sends when it asks
    /// other writers for their data not yet uploaded, when they require credentials.
    pub token: Option<model::secret::Secret>,
    /// `writer` or `query` (`bitacora server --role query`).
    pub role: Role,
}

/// What a server does in a cluster sharing a bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Stores what is pushed to it (WAL, segments uploaded to the bucket) and answers queries
    /// over every writer's data.
    #[default]
    Writer,
    /// Answers queries over every writer's segments in the bucket; refuses pushes.
    Query,
}

impl ClusterConfig {
    /// `advertise_url`, or one made from where the server listens.
    pub fn advertise_url(&self, listen: SocketAddr, tls: bool) -> String {
        if !self.advertise_url.is_empty() {
            return self.advertise_url.trim_end_matches('/').to_string();
        }
        let scheme = if tls { "https" } else { "http" };
        if listen.ip().is_unspecified() {
            format!("{scheme}://{}:{}", hostname(), listen.port())
        } else {
            format!("{scheme}://{listen}")
        }
    }

    /// `node_id`, or the host name when it is empty.
    pub fn node_id(&self) -> String {
        if !self.node_id.is_empty() {
            return self.node_id.clone();
        }
        hostname()
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:3100".parse().unwrap(),
            data_dir: PathBuf::from("./data"),
            log_level: "info".into(),
            api: Default::default(),
            store: Default::default(),
            limits: Default::default(),
            overrides: Default::default(),
            agent: Default::default(),
            auth: Default::default(),
            tls: Default::default(),
            ruler: Default::default(),
            alerting: Default::default(),
            dashboards: Default::default(),
            apps: Default::default(),
            deletes: Default::default(),
            cluster: Default::default(),
        }
    }
}

/// Environment variables the command line reads itself.
const CLI_VARS: [&str; 4] = ["BITACORA_CONFIG", "BITACORA_ADDR", "BITACORA_TENANT", "BITACORA_BIN"];

impl Config {
    /// Every tenant's limits: `limits` with each tenant's `overrides` applied.
    pub fn tenant_limits(&self) -> Result<store::TenantLimits, String> {
        store::TenantLimits::resolve(self.limits.clone(), &self.overrides)
    }

    /// Where rule files live: `ruler.rules_dir`, by default `<data_dir>/rules`.
    pub fn rules_dir(&self) -> PathBuf {
        if self.ruler.rules_dir.as_os_str().is_empty() {
            self.data_dir.join("rules")
        } else {
            self.ruler.rules_dir.clone()
        }
    }

    /// Loads the file (if any), applies environment overrides and checks the result.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let mut value = match path {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).with_context(|| format!("cannot read config file {}", p.display()))?;
                let cfg: Config =
                    serde_saphyr::from_str(&text).map_err(|e| anyhow::anyhow!("config file {}: {e}", p.display()))?;
                model::secret::reveal(|| serde_json::to_value(cfg))?
            }
            None => model::secret::reveal(|| serde_json::to_value(Config::default()))?,
        };
        let mut vars: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("BITACORA_")).collect();
        vars.sort();
        for (k, v) in vars {
            let path: Vec<String> = k["BITACORA_".len()..].split("__").map(|s| s.to_ascii_lowercase()).collect();
            // Variables of the command line (BITACORA_CONFIG, BITACORA_ADDR, ...) and of other
            // tools are not configuration keys: a single unknown name is only mentioned.
            if path.len() == 1 && value.get(&path[0]).is_none() {
                if !CLI_VARS.contains(&k.as_str()) {
                    eprintln!("bitacora: ignoring environment variable {k}: not a configuration key");
                }
                continue;
            }
            apply_override(&mut value, &path, &v).with_context(|| format!("environment variable {k}"))?;
        }
        serde_path_to_error::deserialize(value)
            .map_err(|e| anyhow::anyhow!("configuration: {}: {}", e.path(), e.inner()))
    }

    /// The configuration as `/config` shows it: every secret (`model::secret`) as `<secret>`.
    /// The configuration as YAML, secrets redacted (it is shown on the config page).
    pub fn to_yaml(&self) -> String {
        let mut c = self.clone();
        if !c.store.object_store.secret_access_key.is_empty() {
            c.store.object_store.secret_access_key = "<secret>".into();
        }
        serde_saphyr::to_string(&c).unwrap_or_default()
    }
}

/// Every problem of a configuration file and the environment, for `bitacora check-config`:
/// syntax, unknown keys and bad values section by section (so one mistake does not hide the
/// next), then what only makes sense as a whole (regexes, sizes, the data directory).
pub fn check(path: Option<&Path>) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(p) = path {
        match std::fs::read_to_string(p) {
            Err(e) => return vec![format!("cannot read config file {}: {e}", p.display())],
            Ok(text) => match serde_saphyr::from_str::<serde_json::Value>(&text) {
                Err(e) => return vec![format!("config file {}: {e}", p.display())],
                Ok(serde_json::Value::Null) => {}
                Ok(serde_json::Value::Object(map)) => {
                    let known = serde_json::to_value(Config::default()).unwrap_or_default();
                    for (key, section) in map {
                        if known.get(&key).is_none() {
                            let names: Vec<&String> = known.as_object().map(|o| o.keys().collect()).unwrap_or_default();
                            problems.push(format!("unknown key {key:?} (known keys: {names:?})"));
                            continue;
                        }
                        let mut one = serde_json::Map::new();
                        one.insert(key.clone(), section);
                        // serde_path_to_error names the key inside the section.
                        if let Err(e) = serde_path_to_error::deserialize::<_, Config>(serde_json::Value::Object(one)) {
                            problems.push(format!("{}: {}", e.path(), e.inner()));
                        }
                    }
                }
                Ok(_) => return vec![format!("config file {}: expected a mapping of sections", p.display())],
            },
        }
        if !problems.is_empty() {
            return problems;
        }
    }
    let cfg = match Config::load(path) {
        Ok(c) => c,
        Err(e) => return vec![format!("{e:#}")],
    };
    problems.extend(agent::check_config(&cfg.agent).into_iter().map(|p| format!("agent: {p}")));
    if let Err(e) = cfg.tenant_limits() {
        problems.push(e);
    }
    problems.extend(rules::check_rules_dir(&cfg.rules_dir()));
    if let Some(p) = &cfg.alerting.alertmanager_config
        && let Err(e) = alertmanager::config::AmConfig::load(p)
    {
        problems.push(format!("alerting.alertmanager_config: {e:#}"));
    }
    let s = &cfg.store;
    if s.flush_bytes == 0 {
        problems.push("store.flush_bytes: must be above 0".into());
    }
    if s.block_bytes == 0 {
        problems.push("store.block_bytes: must be above 0".into());
    }
    if s.cold_block_bytes > 64 << 20 {
        problems.push("store.cold_block_bytes: at most 67108864 (64 MiB)".into());
    }
    for (k, v) in [
        ("store.zstd_level", s.zstd_level),
        ("store.compaction_zstd_level", s.compaction_zstd_level),
        ("store.cold_zstd_level", s.cold_zstd_level),
    ] {
        if !(1..=22).contains(&v) {
            problems.push(format!("{k}: {v} is not a zstd level (1 to 22)"));
        }
    }
    if s.compaction_segment_bytes < 1 << 20 {
        problems.push("store.compaction_segment_bytes: at least 1048576 (1 MiB)".into());
    }
    if s.flush_interval.0.is_zero() {
        problems.push("store.flush_interval: must be above 0s".into());
    }
    let dir = &cfg.data_dir;
    if dir.exists() {
        if !dir.is_dir() {
            problems.push(format!("data_dir {}: not a directory", dir.display()));
        } else if std::fs::metadata(dir).is_ok_and(|m| m.permissions().readonly()) {
            problems.push(format!("data_dir {}: read-only", dir.display()));
        }
    } else if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.exists()
    {
        problems.push(format!("data_dir {}: its parent {} does not exist", dir.display(), parent.display()));
    }
    problems
}

/// Sets one key of the JSON form of the configuration from an environment variable's text.
fn apply_override(root: &mut serde_json::Value, path: &[String], raw: &str) -> anyhow::Result<()> {
    let mut cur = root;
    // Inside an optional section unset by default (`basic_auth: null`), the keys are not known
    // here: they are taken as given and checked when the configuration is deserialized.
    let defaults = serde_json::to_value(Config::default())?;
    let mut default = Some(&defaults);
    let mut unset_section = false;
    for (i, key) in path.iter().enumerate() {
        let obj = match cur.as_object_mut() {
            Some(o) => o,
            None => bail!("{} is not a section", path[..i].join(".")),
        };
        if unset_section && !obj.contains_key(key) {
            obj.insert(key.clone(), serde_json::Value::Null);
        }
        default = default.and_then(|d| d.get(key));
        if i + 1 < path.len() && default.is_some_and(serde_json::Value::is_null) {
            unset_section = true;
            if obj.get(key).is_some_and(serde_json::Value::is_null) {
                obj.insert(key.clone(), serde_json::Value::Object(Default::default()));
            }
        }
        if !obj.contains_key(key) {
            let known: Vec<&String> = obj.keys().collect();
            bail!("unknown key {:?} (known keys here: {known:?})", path[..=i].join("."));
        }
        if i + 1 == path.len() {
            let old = &obj[key];
            let new = match old {
                // An unset optional value (`bearer_token: null`) is set as a string.
                serde_json::Value::String(_) | serde_json::Value::Null => serde_json::Value::String(raw.to_string()),
                serde_json::Value::Bool(_) => serde_json::Value::Bool(
                    raw.parse().map_err(|_| anyhow::anyhow!("expected true or false, got {raw:?}"))?,
                ),
                serde_json::Value::Number(_) => serde_json::Value::Number(
                    raw.parse().map_err(|_| anyhow::anyhow!("expected a number, got {raw:?}"))?,
                ),
                // A list: YAML or JSON (`[{username: ann, password_hash: "$argon2id$..."}]`), or
                // plain words separated by commas.
                serde_json::Value::Array(_) if raw.trim_start().starts_with('[') => {
                    let v: serde_json::Value =
                        serde_saphyr::from_str(raw).map_err(|e| anyhow::anyhow!("not a YAML or JSON list: {e}"))?;
                    if !v.is_array() {
                        bail!("expected a list");
                    }
                    v
                }
                serde_json::Value::Array(_) => serde_json::Value::Array(
                    raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.into()).collect(),
                ),
                _ => bail!("{} is a section; set one of its keys", path.join(".")),
            };
            obj.insert(key.clone(), new);
            return Ok(());
        }
        cur = obj.get_mut(key).unwrap();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_and_errors() {
        let mut v = serde_json::to_value(Config::default()).unwrap();
        apply_override(&mut v, &["store".into(), "retention_period".into()], "7d").unwrap();
        apply_override(&mut v, &["limits".into(), "ingestion_rate_mb".into()], "16").unwrap();
        let c: Config = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(c.store.retention_period.0.as_secs(), 7 * 86400);
        assert_eq!(c.limits.ingestion_rate_mb, 16.0);
        let e = apply_override(&mut v, &["store".into(), "nope".into()], "1").unwrap_err();
        assert!(e.to_string().contains("unknown key \"store.nope\""), "{e}");
        let e = apply_override(&mut v, &["store".into(), "wal_fsync".into()], "maybe").unwrap_err();
        assert!(e.to_string().contains("expected true or false"), "{e}");
        // Unset optional values and sections are set from the environment too.
        apply_override(&mut v, &["agent".into(), "bearer_token".into()], "t0ken").unwrap();
        apply_override(&mut v, &["agent".into(), "basic_auth".into(), "username".into()], "u").unwrap();
        apply_override(&mut v, &["agent".into(), "basic_auth".into(), "password".into()], "pw").unwrap();
        let c: Config = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(c.agent.bearer_token.as_ref().map(|t| t.expose()), Some("t0ken"));
        assert_eq!(c.agent.basic_auth.as_ref().map(|a| a.password.expose()), Some("pw"));
        let yaml = c.to_yaml();
        assert!(!yaml.contains("t0ken") && !yaml.contains("pw\n") && yaml.contains("<secret>"), "{yaml}");
        // Lists of users and tokens from one variable, as YAML or JSON; their hashes stay secret.
        let h = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0J9QUaXgE7ZCQaKxR2YoTZbVDs2p3/EUXbbz3j0Ep2c";
        apply_override(
            &mut v,
            &["auth".into(), "users".into()],
            &format!(r#"[{{"username": "ann", "password_hash": "{h}", "tenant": "t1"}}]"#),
        )
        .unwrap();
        apply_override(
            &mut v,
            &["auth".into(), "tokens".into()],
            &format!("[{{name: ci, token_hash: '{h}', scopes: [push, read]}}]"),
        )
        .unwrap();
        apply_override(&mut v, &["auth".into(), "open_paths".into()], "/ready, /metrics,/loki/api/v1/status/*")
            .unwrap();
        let e = apply_override(&mut v, &["auth".into(), "users".into()], "[{username: ann").unwrap_err();
        assert!(e.to_string().contains("not a YAML or JSON list"), "{e}");
        let c: Config = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(c.auth.users[0].password_hash.expose(), h);
        assert_eq!(c.auth.users[0].tenant.as_deref(), Some("t1"));
        assert_eq!(c.auth.tokens[0].scopes, vec![auth::Scope::Push, auth::Scope::Read]);
        assert_eq!(c.auth.open_paths, vec!["/ready", "/metrics", "/loki/api/v1/status/*"]);
        let yaml = c.to_yaml();
        assert!(!yaml.contains("argon2") && yaml.contains("username: ann"), "{yaml}");
        let bad: Result<Config, _> = serde_saphyr::from_str("store:\n  retention_period: forever\n");
        assert!(bad.unwrap_err().to_string().contains("not a valid duration"));
    }
}
