//! The `auth:` section of the configuration, and its checked, ready-to-use form.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use argon2::password_hash::phc::PasswordHash;
use model::duration::PromDuration;
use model::secret::Secret;
use serde::{Deserialize, Serialize};

/// Who may use the server. With no user, no token and no proxy header, everything is open (and
/// the server should then listen on loopback only).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// People: they log in to the UI and use HTTP basic auth for the API; they may do everything.
    pub users: Vec<UserConfig>,
    /// API tokens (`Authorization: Bearer <token>`), each with scopes and a tenant.
    pub tokens: Vec<TokenConfig>,
    /// Paths anyone may request (exact, or a prefix when ending in `*`).
    pub open_paths: Vec<String>,
    /// A reverse proxy that authenticates people itself (oauth2-proxy, Authelia, Authentik).
    pub proxy: ProxyConfig,
    /// How long a login lasts.
    pub session_ttl: PromDuration,
    /// Failed logins (login page, basic auth, tokens) allowed per client address and per user
    /// name within `login_failure_window`; beyond it, 429 until the window ends.
    pub login_max_failures: u32,
    pub login_failure_window: PromDuration,
    /// Successful basic-auth and token verifications are remembered this long (keyed by a hash
    /// of the credentials), so clients that send them with every request do not pay argon2 each
    /// time. 0s: verify every request.
    pub credentials_cache_ttl: PromDuration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            users: Vec::new(),
            tokens: Vec::new(),
            open_paths: vec!["/ready".into(), "/metrics".into()],
            proxy: ProxyConfig::default(),
            session_ttl: PromDuration(Duration::from_secs(12 * 3600)),
            login_max_failures: 10,
            login_failure_window: PromDuration(Duration::from_secs(300)),
            credentials_cache_ttl: PromDuration(Duration::from_secs(60)),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub username: String,
    /// An argon2id PHC string, as `bitacora hash-password` prints it.
    pub password_hash: Secret,
    /// When set, every request of this user is of this tenant (X-Scope-OrgID must match or be
    /// absent).
    #[serde(default)]
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    pub name: String,
    /// An argon2id PHC string of the token, as `bitacora hash-password` prints it.
    pub token_hash: Secret,
    pub scopes: Vec<Scope>,
    /// The tenant of this token's requests; unset: X-Scope-OrgID (or the default tenant).
    #[serde(default)]
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyConfig {
    /// The header carrying the authenticated user's name, e.g. `X-Forwarded-User`.
    pub user_header: Option<String>,
    /// Addresses (CIDR) of the proxies whose header is believed; from any other address the
    /// header is ignored. Their `X-Forwarded-For` is believed too (for rate limits and logs).
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Push,
    Read,
    Admin,
}

/// What a principal may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    pub push: bool,
    pub read: bool,
    pub admin: bool,
}

impl Scopes {
    pub const ALL: Scopes = Scopes { push: true, read: true, admin: true };

    pub fn from_list(list: &[Scope]) -> Scopes {
        let mut s = Scopes::default();
        for x in list {
            match x {
                Scope::Push => s.push = true,
                Scope::Read => s.read = true,
                // Admin can do everything.
                Scope::Admin => s = Scopes::ALL,
            }
        }
        s
    }

    pub fn names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.push {
            v.push("push");
        }
        if self.read {
            v.push("read");
        }
        if self.admin {
            v.push("admin");
        }
        v
    }
}

/// A configuration error, naming the entry at fault.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// The configuration, checked: hashes parsed, networks parsed.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub users: Vec<CUser>,
    pub tokens: Vec<CToken>,
    pub open_exact: HashSet<String>,
    pub open_prefix: Vec<String>,
    pub proxy_header: Option<String>,
    pub trusted: Vec<ipnet::IpNet>,
    pub session_ttl: Duration,
    pub max_failures: u32,
    pub failure_window: Duration,
    pub cache_ttl: Duration,
    /// Counts reloads.
    pub generation: u64,
}

#[derive(Debug)]
pub(crate) struct CUser {
    pub name: String,
    pub hash: String,
    pub tenant: Option<String>,
}

#[derive(Debug)]
pub(crate) struct CToken {
    pub name: String,
    pub hash: String,
    pub scopes: Scopes,
    pub tenant: Option<String>,
}

/// Loki's rule for tenant IDs.
pub fn valid_tenant(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 150
        && t != "."
        && t != ".."
        && t.chars().all(|c| c.is_ascii_alphanumeric() || "!-_.*'()".contains(c))
}

fn check_hash(what: &str, h: &str) -> Result<(), ConfigError> {
    let parsed = PasswordHash::new(h).map_err(|e| {
        ConfigError(format!(
            "{what}: not a password hash made by `bitacora hash-password` (a PHC string like $argon2id$v=19$...): {e}"
        ))
    })?;
    if !parsed.algorithm.as_str().starts_with("argon2") {
        return Err(ConfigError(format!("{what}: hash algorithm {} is not argon2", parsed.algorithm)));
    }
    Ok(())
}

impl AuthConfig {
    /// Any user, token or proxy header configured: every path but the open ones needs them.
    pub fn enabled(&self) -> bool {
        !self.users.is_empty() || !self.tokens.is_empty() || self.proxy.user_header.is_some()
    }

    pub(crate) fn compile(&self) -> Result<Compiled, ConfigError> {
        let mut seen = HashSet::new();
        let mut users = Vec::new();
        for u in &self.users {
            if u.username.is_empty() || u.username.len() > 256 || u.username.contains(':') {
                return Err(ConfigError(format!(
                    "auth.users: user name {:?} must be 1 to 256 characters without ':'",
                    u.username
                )));
            }
            if !seen.insert(u.username.clone()) {
                return Err(ConfigError(format!("auth.users: user {:?} is listed twice", u.username)));
            }
            check_hash(&format!("auth.users {:?} password_hash", u.username), u.password_hash.expose())?;
            if let Some(t) = &u.tenant
                && !valid_tenant(t)
            {
                return Err(ConfigError(format!("auth.users {:?}: tenant {t:?} is not a valid tenant ID", u.username)));
            }
            users.push(CUser {
                name: u.username.clone(),
                hash: u.password_hash.expose().to_string(),
                tenant: u.tenant.clone(),
            });
        }
        let mut names = HashSet::new();
        let mut tokens = Vec::new();
        for t in &self.tokens {
            if t.name.is_empty() || !names.insert(t.name.clone()) {
                return Err(ConfigError(format!("auth.tokens: token name {:?} is empty or listed twice", t.name)));
            }
            check_hash(&format!("auth.tokens {:?} token_hash", t.name), t.token_hash.expose())?;
            if t.scopes.is_empty() {
                return Err(ConfigError(format!(
                    "auth.tokens {:?}: no scopes; give one or more of push, read, admin",
                    t.name
                )));
            }
            if let Some(x) = &t.tenant
                && !valid_tenant(x)
            {
                return Err(ConfigError(format!("auth.tokens {:?}: tenant {x:?} is not a valid tenant ID", t.name)));
            }
            tokens.push(CToken {
                name: t.name.clone(),
                hash: t.token_hash.expose().to_string(),
                scopes: Scopes::from_list(&t.scopes),
                tenant: t.tenant.clone(),
            });
        }
        let mut open_exact = HashSet::new();
        let mut open_prefix = Vec::new();
        for p in &self.open_paths {
            if !p.starts_with('/') {
                return Err(ConfigError(format!("auth.open_paths: {p:?} must start with /")));
            }
            match p.strip_suffix('*') {
                Some(prefix) => open_prefix.push(prefix.to_string()),
                None => {
                    open_exact.insert(p.clone());
                }
            }
        }
        let mut trusted = Vec::new();
        for n in &self.proxy.trusted_proxies {
            let net =
                n.parse::<ipnet::IpNet>().or_else(|_| n.parse::<IpAddr>().map(ipnet::IpNet::from)).map_err(|_| {
                    ConfigError(format!("auth.proxy.trusted_proxies: {n:?} is not an address or CIDR network"))
                })?;
            trusted.push(net);
        }
        let proxy_header =
            self.proxy.user_header.as_ref().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty());
        if proxy_header.is_some() && trusted.is_empty() {
            return Err(ConfigError(
                "auth.proxy.user_header is set but auth.proxy.trusted_proxies is empty: give the proxy's address (e.g. 127.0.0.1/32)".into(),
            ));
        }
        if self.login_max_failures == 0 {
            return Err(ConfigError("auth.login_max_failures must be at least 1".into()));
        }
        if self.session_ttl.0.is_zero() {
            return Err(ConfigError("auth.session_ttl must be longer than 0s".into()));
        }
        Ok(Compiled {
            users,
            tokens,
            open_exact,
            open_prefix,
            proxy_header,
            trusted,
            session_ttl: self.session_ttl.0,
            max_failures: self.login_max_failures,
            failure_window: self.login_failure_window.0,
            cache_ttl: self.credentials_cache_ttl.0,
            generation: 0,
        })
    }
}
