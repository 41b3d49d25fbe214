//! Who may do what: users (argon2id password hashes), login sessions, API tokens with scopes
//! and a tenant, a trusted proxy's user header, CSRF protection and a rate limit on failed
//! logins. It knows no HTTP framework: the API crate turns a request into a [`Request`] and a
//! [`Decision`] into a response.
//!
//! - Paths are classified by prefix ([`Access`]): everything under `/api/v1/admin`, `/admin/`,
//!   `/ingester/`, plus `/flush` and `/config`, needs the `admin` scope; pushes need `push`;
//!   every other API path (and the UI's pages) needs `read`. Users (and proxy users) may do
//!   everything. `auth.open_paths` (`/ready`, `/metrics` by default) are open to anyone.
//! - Sessions live in memory (a restart logs everyone out); the cookie holds a random 256-bit
//!   id, the server keeps its SHA-256. Each session has a CSRF token that state-changing
//!   requests (anything but GET, HEAD, OPTIONS) must echo in `X-CSRF-Token`; a request whose
//!   `Origin` is another host than its own is refused whatever its credentials, bearer tokens
//!   aside (browsers never send those by themselves).
//! - Argon2 verifications run on blocking threads, at most as many at once as there are CPUs.
//!   Successful basic-auth and token verifications are cached for `credentials_cache_ttl`,
//!   keyed by a keyed SHA-256 of the credentials (the key is random per process).
//! - Failed verifications count per client address and per user name; past
//!   `login_max_failures` within `login_failure_window` the next attempts get 429 without being
//!   checked. Cached good credentials keep working, so an attacker cannot lock out Grafana.
//! - [`Auth::reload`] swaps in a new configuration (users, tokens, paths) atomically; it clears
//!   the credentials cache, and sessions of users no longer configured stop working.
//!
//! Dependencies: `argon2` (RustCrypto; PHC strings), `sha2`, `subtle` (constant-time
//! comparisons), `getrandom` (session ids, CSRF tokens), `base64`, `ipnet` (trusted proxy
//! networks), `arc-swap` (the swappable configuration).

mod classify;
mod config;
mod limiter;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use parking_lot::Mutex;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use classify::{classify, classify_request, client_ip, cross_origin};
use config::Compiled;
pub use config::{AuthConfig, ConfigError, ProxyConfig, Scope, Scopes, TokenConfig, UserConfig, valid_tenant};
use limiter::{Limiter, TABLE_CAP};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bitacora_session";
/// The header state-changing requests of a session must carry its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The realm of `WWW-Authenticate: Basic`.
pub const REALM: &str = "bitacora";

/// Hashes a password (or token) with argon2id and its default cost (19 MiB, 2 passes), as a PHC
/// string for `auth.users[].password_hash` or `auth.tokens[].token_hash`.
pub fn hash_password(password: &[u8]) -> Result<String, String> {
    argon2::Argon2::default().hash_password(password).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Checks a password against a PHC string (false for a malformed one).
pub fn verify_password(hash: &str, password: &[u8]) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| argon2::Argon2::default().verify_password(password, &h).is_ok())
}

/// What a path needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (`auth.open_paths`).
    Open,
    /// Anyone, but credentials are looked at when present (the login page and its files).
    Public,
    /// Any authenticated principal (logout).
    Any,
    /// A UI page: read, and a browser without a session is sent to the login page.
    Ui,
    Read,
    Push,
    Admin,
}

impl Access {
    fn scope_name(self) -> &'static str {
        match self {
            Access::Push => "push",
            Access::Admin => "admin",
            _ => "read",
        }
    }
}

/// How a request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// No user or token is configured: everything is open.
    Disabled,
    /// An open path.
    Open,
    /// A public path without credentials.
    Anonymous,
    Session,
    Basic,
    Bearer,
    Proxy,
}

/// Who is making a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub name: String,
    pub via: Via,
    pub scopes: Scopes,
    /// The tenant every request of this principal belongs to, if it is pinned to one.
    pub tenant: Option<String>,
    /// The session's CSRF token (sessions only).
    pub csrf: Option<String>,
}

/// The parts of an HTTP request that authentication looks at.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The connection's peer.
    pub peer: Option<IpAddr>,
    pub authorization: Option<String>,
    /// The session cookie's value.
    pub session: Option<String>,
    pub csrf: Option<String>,
    pub origin: Option<String>,
    pub host: Option<String>,
    pub forwarded_host: Option<String>,
    pub forwarded_for: Option<String>,
    pub sec_fetch_site: Option<String>,
    pub websocket: bool,
    pub org_id: Option<String>,
    /// The value of `auth.proxy.user_header`, when configured.
    pub proxy_user: Option<String>,
}

impl Request {
    /// Reads a request through `header` (a case-insensitive lookup of the first value).
    pub fn new<'h>(
        auth: &Auth,
        method: &str,
        path: &str,
        peer: Option<IpAddr>,
        header: impl Fn(&str) -> Option<&'h str>,
    ) -> Request {
        let own = |name: &str| header(name).map(str::to_string);
        let proxy_user = auth.cfg.load().proxy_header.as_deref().and_then(&header).map(|v| v.trim().to_string());
        Request {
            method: method.to_string(),
            path: path.to_string(),
            peer,
            authorization: own("authorization"),
            session: header("cookie").and_then(session_from_cookies).map(str::to_string),
            csrf: own(CSRF_HEADER),
            origin: own("origin"),
            host: own("host"),
            forwarded_host: own("x-forwarded-host"),
            forwarded_for: own("x-forwarded-for"),
            sec_fetch_site: own("sec-fetch-site"),
            websocket: header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")),
            org_id: header("x-scope-orgid").map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
            proxy_user: proxy_user.filter(|u| !u.is_empty()),
        }
    }

    fn safe_method(&self) -> bool {
        matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
}

/// The session id in a `Cookie` header.
pub fn session_from_cookies(cookies: &str) -> Option<&str> {
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.trim())
}

/// What to do with a request.
#[derive(Debug, Clone)]
pub enum Decision {
    Allow(Principal),
    /// No credentials: 401 with `WWW-Authenticate` (a UI page: the login page).
    Unauthenticated {
        access: Access,
        message: String,
    },
    /// Credentials that are wrong: 401.
    Invalid {
        message: String,
    },
    /// Authenticated, but not allowed: 403.
    Forbidden {
        message: String,
    },
    /// Too many failures from this address or for this user: 429.
    RateLimited {
        retry_after: Duration,
        message: String,
    },
}

/// A new login session.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie's value.
    pub id: String,
    pub csrf: String,
    pub user: String,
    pub max_age: Duration,
}

#[derive(Debug, Clone)]
pub enum LoginError {
    /// Wrong user name or password (which one is not said).
    Invalid,
    RateLimited(Duration),
    /// No user is configured: there is nothing to log in to.
    Disabled,
}

struct Session {
    user: String,
    csrf: String,
    expires: Instant,
}

#[derive(Clone)]
enum Cached {
    User(String),
    Token(usize),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    method: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeniedLabels {
    status: &'static str,
}

struct Metrics {
    attempts: Family<AttemptLabels, Counter>,
    denied: Family<DeniedLabels, Counter>,
    cache_hits: Counter,
    verify_seconds: Histogram,
    sessions: Gauge,
}

/// The authentication state: configuration (swappable), sessions, caches, failure counts.
pub struct Auth {
    cfg: ArcSwap<Compiled>,
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    /// Verified credentials: until when, what, and for which configuration (its generation: a
    /// reload makes every entry stale, also one a request still running on the old one adds).
    cache: Mutex<HashMap<[u8; 32], (Instant, Cached, u64)>>,
    limiter: Mutex<Limiter>,
    /// Keys the credentials cache.
    cache_key: [u8; 32],
    slots: tokio::sync::Semaphore,
    /// Counts reloads: each configuration's generation.
    reloads: std::sync::atomic::AtomicU64,
    metrics: Metrics,
    /// A hash checked for unknown users, so that they take as long as known ones.
    dummy: OnceLock<String>,
}

fn random32() -> [u8; 32] {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the operating system's random number generator failed");
    b
}

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn sha(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

impl Auth {
    pub fn new(cfg: &AuthConfig, registry: &mut Registry) -> Result<Auth, ConfigError> {
        let compiled = cfg.compile()?;
        let metrics = Metrics {
            attempts: Family::default(),
            denied: Family::default(),
            cache_hits: Counter::default(),
            verify_seconds: Histogram::new(exponential_buckets(0.002, 2.0, 12)),
            sessions: Gauge::default(),
        };
        registry.register(
            "bitacora_auth_attempts",
            "Credential checks (login page, basic auth, bearer tokens) by outcome: success, failure, rate_limited",
            metrics.attempts.clone(),
        );
        registry.register(
            "bitacora_auth_denied",
            "Requests refused by authentication, by status",
            metrics.denied.clone(),
        );
        registry.register(
            "bitacora_auth_cache_hits",
            "Basic-auth and token requests answered from the credentials cache (no argon2)",
            metrics.cache_hits.clone(),
        );
        registry.register(
            "bitacora_auth_verify_seconds",
            "Time of one argon2 verification, waiting for a slot included",
            metrics.verify_seconds.clone(),
        );
        registry.register("bitacora_auth_sessions", "Open login sessions", metrics.sessions.clone());
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
        Ok(Auth {
            cfg: ArcSwap::from_pointee(compiled),
            sessions: Mutex::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
            limiter: Mutex::new(Limiter::default()),
            cache_key: random32(),
            slots: tokio::sync::Semaphore::new(cpus),
            reloads: std::sync::atomic::AtomicU64::new(0),
            metrics,
            dummy: OnceLock::new(),
        })
    }

    /// Replaces the configuration (SIGHUP). On error the running one stays.
    pub fn reload(&self, cfg: &AuthConfig) -> Result<(), ConfigError> {
        let mut compiled = cfg.compile()?;
        compiled.generation = self.reloads.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        self.cfg.store(Arc::new(compiled));
        self.cache.lock().clear();
        let c = self.cfg.load();
        self.sessions.lock().retain(|_, s| c.users.iter().any(|u| u.name == s.user));
        self.metrics.sessions.set(self.sessions.lock().len() as i64);
        tracing::info!(users = c.users.len(), tokens = c.tokens.len(), "auth configuration reloaded");
        Ok(())
    }

    /// Whether any user, token or proxy header is configured.
    pub fn enabled(&self) -> bool {
        let c = self.cfg.load();
        !c.users.is_empty() || !c.tokens.is_empty() || c.proxy_header.is_some()
    }

    /// Whether `ip` is a configured proxy.
    pub fn trusted_proxy(&self, ip: IpAddr) -> bool {
        self.cfg.load().trusted.iter().any(|n| n.contains(&ip))
    }

    /// Whether the request's `Origin` (or `Sec-Fetch-Site`) says another site made it.
    pub fn cross_origin(&self, req: &Request) -> bool {
        cross_origin(&self.cfg.load(), req)
    }

    /// What `path` needs.
    pub fn classify(&self, path: &str) -> Access {
        classify(&self.cfg.load(), path)
    }

    /// The client's address: the peer, or behind a trusted proxy the last address of
    /// `X-Forwarded-For` that is not a trusted proxy.
    pub fn client_ip(&self, req: &Request) -> Option<IpAddr> {
        client_ip(&self.cfg.load(), req)
    }

    /// Decides on a request.
    pub async fn authenticate(&self, req: &Request) -> Decision {
        let c = self.cfg.load_full();
        let access = classify_request(&c, req.safe_method(), &req.path);
        if access == Access::Open {
            return Decision::Allow(Principal {
                name: String::new(),
                via: Via::Open,
                scopes: Scopes::ALL,
                tenant: None,
                csrf: None,
            });
        }
        let enabled = !c.users.is_empty() || !c.tokens.is_empty() || c.proxy_header.is_some();
        if !enabled {
            return Decision::Allow(Principal {
                name: String::new(),
                via: Via::Disabled,
                scopes: Scopes::ALL,
                tenant: None,
                csrf: None,
            });
        }
        // The login page and its files ignore an Authorization header: a browser may send stale
        // basic credentials along, which must neither fail the page nor count as failures.
        let d = self.identify(&c, req, access != Access::Public).await;
        let p = match d {
            Ok(Some(p)) => p,
            Ok(None) if access == Access::Public => {
                return Decision::Allow(Principal {
                    name: String::new(),
                    via: Via::Anonymous,
                    scopes: Scopes::default(),
                    tenant: None,
                    csrf: None,
                });
            }
            Ok(None) => {
                return self.deny(Decision::Unauthenticated {
                    access,
                    message: "authentication required: log in, or send HTTP basic auth or a bearer token".into(),
                });
            }
            Err(d) => return self.deny(d),
        };
        // Browsers send cookies and cached basic credentials by themselves, also to requests
        // another site makes them send: refuse any that come from another origin.
        if p.via != Via::Bearer && (!req.safe_method() || req.websocket) && cross_origin(&c, req) {
            return self.deny(Decision::Forbidden {
                message: "cross-origin request refused: its Origin is not this server".into(),
            });
        }
        if p.via == Via::Session && !req.safe_method() {
            let ok = match (&req.csrf, &p.csrf) {
                (Some(got), Some(want)) => ct_eq(got, want),
                _ => false,
            };
            if !ok {
                return self.deny(Decision::Forbidden {
                    message: format!(
                        "missing or wrong {CSRF_HEADER} header: requests that change something must carry the session's CSRF token (GET /auth/session)"
                    ),
                });
            }
        }
        let allowed = match access {
            Access::Open | Access::Public | Access::Any => true,
            Access::Ui | Access::Read => p.scopes.read,
            Access::Push => p.scopes.push,
            Access::Admin => p.scopes.admin,
        };
        if !allowed {
            let who = match p.via {
                Via::Bearer => format!("token {:?}", p.name),
                _ => format!("user {:?}", p.name),
            };
            return self.deny(Decision::Forbidden {
                message: format!(
                    "{who} has the scopes [{}]; {} needs the {} scope",
                    p.scopes.names().join(", "),
                    req.path,
                    access.scope_name()
                ),
            });
        }
        if let (Some(pinned), Some(asked)) = (&p.tenant, &req.org_id)
            && pinned != asked
        {
            return self.deny(Decision::Forbidden {
                message: format!("X-Scope-OrgID {asked:?} does not match the tenant of {:?}, {pinned:?}", p.name),
            });
        }
        Decision::Allow(p)
    }

    fn deny(&self, d: Decision) -> Decision {
        let status = match &d {
            Decision::Allow(_) => return d,
            Decision::Unauthenticated { .. } | Decision::Invalid { .. } => "401",
            Decision::Forbidden { .. } => "403",
            Decision::RateLimited { .. } => "429",
        };
        self.metrics.denied.get_or_create(&DeniedLabels { status }).inc();
        d
    }

    /// The principal of the request's credentials: `Ok(None)` without any.
    async fn identify(
        &self,
        c: &Arc<Compiled>,
        req: &Request,
        authorization: bool,
    ) -> Result<Option<Principal>, Decision> {
        let ip = client_ip(c, req);
        if let (Some(user), Some(peer)) = (&req.proxy_user, req.peer)
            && c.trusted.iter().any(|n| n.contains(&peer))
        {
            if user.len() > 256 {
                return Err(Decision::Invalid { message: "the proxy's user header is longer than 256 bytes".into() });
            }
            let tenant = c.users.iter().find(|u| &u.name == user).and_then(|u| u.tenant.clone());
            return Ok(Some(Principal {
                name: user.clone(),
                via: Via::Proxy,
                scopes: Scopes::ALL,
                tenant,
                csrf: None,
            }));
        }
        if let Some(h) = req.authorization.as_ref().filter(|_| authorization) {
            let (scheme, rest) = h.trim().split_once(' ').unwrap_or((h.trim(), ""));
            let rest = rest.trim();
            if scheme.eq_ignore_ascii_case("bearer") {
                return self.bearer(c, rest, ip).await.map(Some);
            }
            if scheme.eq_ignore_ascii_case("basic") {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(rest)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| Decision::Invalid {
                        message: "malformed basic auth header: not base64 of user:password".into(),
                    })?;
                let (user, pass) = decoded.split_once(':').ok_or_else(|| Decision::Invalid {
                    message: "malformed basic auth header: no ':' between user and password".into(),
                })?;
                return match self.check_password(c, user, pass, ip, "basic").await {
                    Ok(p) => Ok(Some(p)),
                    Err(LoginError::RateLimited(d)) => Err(rate_limited(d)),
                    Err(_) => Err(Decision::Invalid { message: "invalid user name or password".into() }),
                };
            }
            return Err(Decision::Invalid {
                message: format!("unsupported Authorization scheme {scheme:?}: use Basic or Bearer"),
            });
        }
        if let Some(id) = &req.session {
            return Ok(self.session(c, id));
        }
        Ok(None)
    }

    fn session(&self, c: &Compiled, id: &str) -> Option<Principal> {
        let key = sha(&[b"session", id.as_bytes()]);
        let mut sessions = self.sessions.lock();
        let s = sessions.get(&key)?;
        if s.expires <= Instant::now() {
            sessions.remove(&key);
            self.metrics.sessions.set(sessions.len() as i64);
            return None;
        }
        let u = c.users.iter().find(|u| u.name == s.user)?;
        Some(Principal {
            name: u.name.clone(),
            via: Via::Session,
            scopes: Scopes::ALL,
            tenant: u.tenant.clone(),
            csrf: Some(s.csrf.clone()),
        })
    }

    fn cached(&self, c: &Arc<Compiled>, key: &[u8; 32]) -> Option<Cached> {
        let mut cache = self.cache.lock();
        match cache.get(key) {
            Some((exp, v, cfg)) if *exp > Instant::now() && *cfg == c.generation => Some(v.clone()),
            Some(_) => {
                cache.remove(key);
                None
            }
            None => None,
        }
    }

    fn remember(&self, c: &Arc<Compiled>, key: [u8; 32], v: Cached) {
        if c.cache_ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut cache = self.cache.lock();
        if cache.len() >= TABLE_CAP {
            cache.retain(|_, (exp, _, _)| *exp > now);
            if cache.len() >= TABLE_CAP {
                cache.clear();
            }
        }
        cache.insert(key, (now + c.cache_ttl, v, c.generation));
    }

    /// Over the limit for any of `keys`: how long to wait.
    fn blocked(&self, c: &Compiled, keys: &[String]) -> Option<Duration> {
        let mut l = self.limiter.lock();
        keys.iter().filter_map(|k| l.blocked(k, c.max_failures, c.failure_window)).max()
    }

    fn failed(&self, c: &Compiled, keys: Vec<String>) {
        let mut l = self.limiter.lock();
        for k in keys {
            l.fail(k, c.failure_window);
        }
    }

    fn attempt(&self, method: &'static str, outcome: &'static str) {
        self.metrics.attempts.get_or_create(&AttemptLabels { method, outcome }).inc();
    }

    /// Runs argon2 verifications on a blocking thread: the index of the first hash `secret`
    /// matches.
    async fn verify_any(&self, hashes: Vec<String>, secret: Vec<u8>) -> Option<usize> {
        let started = Instant::now();
        let _slot = self.slots.acquire().await.ok()?;
        let found = tokio::task::spawn_blocking(move || hashes.iter().position(|h| verify_password(h, &secret)))
            .await
            .ok()
            .flatten();
        self.metrics.verify_seconds.observe(started.elapsed().as_secs_f64());
        found
    }

    async fn check_password(
        &self,
        c: &Arc<Compiled>,
        user: &str,
        pass: &str,
        ip: Option<IpAddr>,
        method: &'static str,
    ) -> Result<Principal, LoginError> {
        let principal = |u: &config::CUser| Principal {
            name: u.name.clone(),
            via: if method == "login" { Via::Session } else { Via::Basic },
            scopes: Scopes::ALL,
            tenant: u.tenant.clone(),
            csrf: None,
        };
        let key = sha(&[&self.cache_key, b"basic", user.as_bytes(), pass.as_bytes()]);
        if method == "basic"
            && let Some(Cached::User(name)) = self.cached(c, &key)
            && let Some(u) = c.users.iter().find(|u| u.name == name)
        {
            self.metrics.cache_hits.inc();
            return Ok(principal(u));
        }
        // Failure counts are kept per user name: only for names that could be configured ones
        // (at most 256 bytes), so that the table stays small.
        let shown = if user.len() <= 256 { user } else { "<longer than 256 bytes>" };
        let mut keys = Vec::new();
        if user.len() <= 256 {
            keys.push(format!("user {user}"));
        }
        if let Some(ip) = ip {
            keys.push(format!("ip {ip}"));
        }
        if let Some(wait) = self.blocked(c, &keys) {
            self.attempt(method, "rate_limited");
            tracing::warn!(user = shown, client = ?ip, method, "login refused: too many failures");
            return Err(LoginError::RateLimited(wait));
        }
        if pass.len() > 4096 || user.len() > 256 {
            self.failed(c, keys);
            self.attempt(method, "failure");
            return Err(LoginError::Invalid);
        }
        let user_entry = c.users.iter().find(|u| u.name == user);
        let hash = match user_entry {
            Some(u) => u.hash.clone(),
            None => self.dummy.get_or_init(|| hash_password(&random32()).unwrap_or_default()).clone(),
        };
        let ok = self.verify_any(vec![hash], pass.as_bytes().to_vec()).await.is_some();
        match user_entry {
            Some(u) if ok => {
                self.limiter.lock().clear(&format!("user {user}"));
                self.attempt(method, "success");
                if method == "basic" {
                    self.remember(c, key, Cached::User(u.name.clone()));
                    tracing::debug!(user = shown, client = ?ip, "basic auth verified");
                } else {
                    tracing::info!(user = shown, client = ?ip, "login");
                }
                Ok(principal(u))
            }
            _ => {
                self.failed(c, keys);
                self.attempt(method, "failure");
                tracing::warn!(user = shown, client = ?ip, method, known_user = user_entry.is_some(), "login failed: wrong user name or password");
                Err(LoginError::Invalid)
            }
        }
    }

    async fn bearer(&self, c: &Arc<Compiled>, token: &str, ip: Option<IpAddr>) -> Result<Principal, Decision> {
        let principal = |i: usize| {
            let t = &c.tokens[i];
            Principal { name: t.name.clone(), via: Via::Bearer, scopes: t.scopes, tenant: t.tenant.clone(), csrf: None }
        };
        let key = sha(&[&self.cache_key, b"bearer", token.as_bytes()]);
        if let Some(Cached::Token(i)) = self.cached(c, &key)
            && i < c.tokens.len()
        {
            self.metrics.cache_hits.inc();
            return Ok(principal(i));
        }
        let keys: Vec<String> = ip.map(|ip| format!("ip {ip}")).into_iter().collect();
        if let Some(wait) = self.blocked(c, &keys) {
            self.attempt("bearer", "rate_limited");
            tracing::warn!(client = ?ip, "token refused: too many failures from this address");
            return Err(rate_limited(wait));
        }
        let found = if token.is_empty() || token.len() > 4096 || c.tokens.is_empty() {
            None
        } else {
            self.verify_any(c.tokens.iter().map(|t| t.hash.clone()).collect(), token.as_bytes().to_vec()).await
        };
        match found {
            Some(i) => {
                self.attempt("bearer", "success");
                self.remember(c, key, Cached::Token(i));
                tracing::debug!(token = %c.tokens[i].name, client = ?ip, "token verified");
                Ok(principal(i))
            }
            None => {
                self.failed(c, keys);
                self.attempt("bearer", "failure");
                tracing::warn!(client = ?ip, "unknown bearer token");
                Err(Decision::Invalid { message: "invalid bearer token".into() })
            }
        }
    }

    /// The login page's form: checks the password and opens a session.
    pub async fn login(&self, req: &Request, user: &str, password: &str) -> Result<NewSession, LoginError> {
        let c = self.cfg.load_full();
        if c.users.is_empty() {
            return Err(LoginError::Disabled);
        }
        let ip = client_ip(&c, req);
        self.check_password(&c, user, password, ip, "login").await?;
        let id = b64(&random32());
        let csrf = b64(&random32());
        let now = Instant::now();
        let mut sessions = self.sessions.lock();
        if sessions.len() >= TABLE_CAP {
            sessions.retain(|_, s| s.expires > now);
            if sessions.len() >= TABLE_CAP
                && let Some(oldest) = sessions.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k)
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            sha(&[b"session", id.as_bytes()]),
            Session { user: user.to_string(), csrf: csrf.clone(), expires: now + c.session_ttl },
        );
        self.metrics.sessions.set(sessions.len() as i64);
        Ok(NewSession { id, csrf, user: user.to_string(), max_age: c.session_ttl })
    }

    /// Ends a session.
    pub fn logout(&self, id: &str) {
        let mut sessions = self.sessions.lock();
        if let Some(s) = sessions.remove(&sha(&[b"session", id.as_bytes()])) {
            tracing::info!(user = %s.user, "logout");
        }
        self.metrics.sessions.set(sessions.len() as i64);
    }
}

fn rate_limited(wait: Duration) -> Decision {
    Decision::RateLimited {
        retry_after: wait,
        message: format!("too many failed logins; try again in {} s", wait.as_secs().max(1)),
    }
}

#[cfg(test)]
mod tests;
