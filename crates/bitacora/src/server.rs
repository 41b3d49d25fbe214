//! Wiring: open the store, start its background work, serve the API until a signal, flush.
//!
//! The HTTP listener is hyper's HTTP/1 server driven here rather than `axum::serve`, for the
//! bounds every connection needs against slow or idle clients (slowloris): a header read
//! timeout (hyper's, with tokio's timer), an idle keep-alive timeout (a watcher per connection
//! that shuts it down gracefully when no request has been in flight for that long) and a cap on
//! concurrent connections (a semaphore taken before `accept`: excess connections wait in the
//! listen backlog, deep enough for a burst: [`LISTEN_BACKLOG`]). Upgrades (live tail's WebSocket) and graceful shutdown work as before.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use prometheus_client::registry::Registry;

use crate::config::Config;

pub async fn serve(cfg: Config, all_in_one: bool, config_path: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    crate::logging::init(&cfg.log_level, true)?;

    // As Go programs do: the soft open-file limit up to the hard one (connections, WAL, agent).
    let (soft, hard) = store::raise_open_file_limit();
    tracing::debug!(soft, hard, "open file limit");
    let mut registry = Registry::default();
    let store = {
        let (dir, sc, limits) = (cfg.data_dir.clone(), cfg.store.clone(), cfg.limits.clone());
        let mut reg = std::mem::take(&mut registry);
        let objects: Option<Arc<dyn store::tier::ObjectTier>> = if sc.object_store.enabled() {
            let node = cfg.cluster.node_id();
            let b = bucket::Bucket::new(&sc.object_store, &node).context("object storage")?;
            tracing::info!(bucket = %store::tier::ObjectTier::describe(&b), node, "segments go to object storage");
            Some(Arc::new(b))
        } else {
            None
        };
        let (store, reg) = tokio::task::spawn_blocking(move || {
            let s = store::Store::open_with(&dir, sc, limits, &mut reg, objects);
            (s, reg)
        })
        .await?;
        registry = reg;
        let store = store?;
        if !cfg.overrides.is_empty() {
            let limits = cfg.tenant_limits().map_err(anyhow::Error::msg)?;
            tracing::info!(tenants = ?limits.tenants().collect::<Vec<_>>(), "per-tenant limits");
            store.reconfigure(cfg.store.clone(), limits);
        }
        Arc::new(store)
    };
    if cfg.store.object_store.enabled() {
        // Other writers' data not yet uploaded, asked over HTTP; a writer says where it answers.
        let token = cfg.cluster.token.as_ref().map(|t| t.expose().to_string());
        store.set_live_data(crate::cluster::HttpLive::new(token).context("cluster client")?);
        let writer = cfg.cluster.role == crate::config::Role::Writer;
        store.announce_as(cfg.cluster.advertise_url(cfg.listen, cfg.tls.cert_file.is_some()), writer);
    }
    let _background = store.spawn_background();
    let deletes = deletes::Deletes::open(&cfg.data_dir, cfg.deletes.clone(), &mut registry)
        .map_err(|e| anyhow::anyhow!("delete requests: {e}"))?;
    let _deletes_thread = deletes.start(&store);
    let query_only = cfg.cluster.role == crate::config::Role::Query;
    if let Some(log) = crate::logging::self_log() {
        // A query node stores nothing, its own log included (it goes to stderr).
        if !query_only {
            log.ship_to(store.clone(), cfg.api.default_tenant.clone());
        }
        let l = log.clone();
        api::status::set_problems(Arc::new(move || {
            l.problems().into_iter().filter_map(|p| serde_json::to_value(p).ok()).collect()
        }));
    }
    let agent = if all_in_one {
        let mut acfg = cfg.agent.clone();
        // Into the local store there is no network hop: ship small batches quickly.
        acfg.batch_wait = model::duration::PromDuration(std::time::Duration::from_millis(100));
        // Retrying the local store is cheap, and what was read waits only in memory meanwhile
        // (the file of a removed container is gone): retry within a second of space returning.
        acfg.max_backoff = model::duration::PromDuration(std::time::Duration::from_secs(1));
        let positions = acfg.positions_file.clone().unwrap_or_else(|| cfg.data_dir.join("agent-positions.json"));
        let sink = Arc::new(StoreSink {
            store: store.clone(),
            tenant: acfg.tenant.clone().unwrap_or_else(|| cfg.api.default_tenant.clone()),
        });
        let a = agent::Agent::new(acfg, sink, &mut registry, positions)
            .map_err(|e| anyhow::anyhow!("agent configuration: {e}"))?;
        Some(a)
    } else {
        None
    };
    let conn_metrics = ConnMetrics::new(&mut registry);
    let auth = Arc::new(auth::Auth::new(&cfg.auth, &mut registry).context("auth configuration")?);
    let tls = crate::tls::Tls::from_config(&cfg.tls, &mut registry)?;
    let _tls_reloader = tls.as_ref().map(|t| t.spawn_reloader());
    let alerting = crate::alerting::Alerting::new(&cfg, store.clone(), deletes.clone(), &mut registry)?;
    let rooms = crate::dashboards::DashboardRooms::new(&cfg, &mut registry)?;
    let apps = crate::apps::new(&cfg, store.clone(), deletes.clone(), &mut registry);
    let drilldown_metrics = drilldown::Metrics::new(&mut registry);
    let state =
        api::AppState::new(store.clone(), auth.clone(), cfg.api.clone(), registry, cfg.to_yaml(), deletes.clone());
    crate::reload::Reloadable {
        path: config_path,
        current: cfg.clone(),
        store: store.clone(),
        agent: agent.as_ref().map(|a| a.reloader()),
        auth: auth.clone(),
        api: state.clone(),
        notifier: alerting.notifier.clone(),
    }
    .spawn();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let agent_task = agent.map(|a| {
        let mut rx = stop_rx.clone();
        // The agent stops at the signal itself, while the API shuts down gracefully beside it.
        tokio::spawn(a.run(async move {
            tokio::select! {
                _ = rx.changed() => {}
                _ = shutdown_signal() => {}
            }
        }))
    });
    if cfg.store.object_store.enabled() && cfg.ruler.enabled {
        // Many nodes share the bucket: one evaluates the rules (see Store::evaluates_rules).
        let (s, was) = (store.clone(), Arc::new(std::sync::atomic::AtomicU8::new(2)));
        alerting.ruler.set_gate(Arc::new(move || {
            let now = s.evaluates_rules();
            if was.swap(now as u8, Ordering::Relaxed) != now as u8 {
                if now {
                    tracing::info!("this node evaluates the rules (the first of the nodes sharing the bucket)");
                } else {
                    tracing::info!("another node sharing the bucket evaluates the rules");
                }
            }
            now
        }));
    }
    alerting.start();
    let _apps_reaper = apps.start();
    let extra = alerting
        .routes(state.clone())
        .merge(rooms.routes())
        .merge(crate::apps::routes(&apps, state.clone()))
        .merge(crate::drilldown::routes(&cfg, state.clone(), drilldown_metrics))
        .merge(crate::log_level::routes());
    let mut app = api::router(state.clone(), extra);
    if query_only {
        app = app.layer(axum::middleware::from_fn(refuse_pushes));
    }
    let _dashboard_tasks = rooms.start(app.clone());
    let listener = listen(cfg.listen).with_context(|| {
        format!("cannot listen on {}; is another server using it? Choose another with --listen", cfg.listen)
    })?;
    let local = listener.local_addr()?;
    announce_access(&cfg, local, tls.is_some());
    tracing::info!(
        listen = %local,
        data_dir = %cfg.data_dir.display(),
        mode = if all_in_one { "run" } else if query_only { "server --role query" } else { "server" },
        tls = tls.is_some(),
        "bitácora is ready"
    );
    serve_http(listener, app, &cfg.api, conn_metrics, tls.map(|t| t.acceptor), shutdown_signal()).await;
    state.ready.store(false, Ordering::Relaxed);
    let _ = stop_tx.send(true);
    if let Some(t) = agent_task {
        // It bounds its own stop (a last push within half a second); this is a safety net.
        if tokio::time::timeout(std::time::Duration::from_secs(2), t).await.is_err() {
            tracing::warn!("the agent did not stop in time");
        }
    }
    alerting.shutdown().await;
    tracing::info!("shutting down: cutting the heads to segments");
    let s = store.clone();
    tokio::task::spawn_blocking(move || s.flush()).await??;
    Ok(())
}

/// Says at start who may use the server; loudly when anyone on the network may.
fn announce_access(cfg: &Config, local: std::net::SocketAddr, tls: bool) {
    let a = &cfg.auth;
    if a.enabled() {
        tracing::info!(
            users = a.users.len(),
            tokens = a.tokens.len(),
            proxy_header = a.proxy.user_header.as_deref().unwrap_or("-"),
            open_paths = ?a.open_paths,
            "access: login or credentials required (auth.users, auth.tokens)"
        );
        if !tls && !local.ip().is_loopback() {
            tracing::warn!(%local, "passwords and tokens travel in clear text: set tls.cert_file and tls.key_file, or put a TLS proxy in front");
        }
    } else if local.ip().is_loopback() {
        tracing::info!(%local, "access: no auth.users or auth.tokens configured, so the API and UI are open, on loopback only");
    } else {
        tracing::warn!(
            %local,
            "!!! THE API AND UI ARE OPEN TO ANYONE WHO REACHES {local}: no auth.users or auth.tokens are configured and the listen address is not loopback. Add users (bitacora hash-password) or listen on 127.0.0.1 !!!"
        );
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// The local store as the agent's sink (`bitacora run`): no HTTP hop.
struct StoreSink {
    store: Arc<store::Store>,
    tenant: String,
}

impl agent::Sink for StoreSink {
    fn push<'a>(
        &'a self,
        streams: &'a [(model::Labels, Vec<model::Entry>)],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), agent::PushError>> + Send + 'a>> {
        Box::pin(async move {
            let store = self.store.clone();
            let tenant = self.tenant.clone();
            let batch: Vec<store::PushStream> = streams
                .iter()
                .map(|(labels, entries)| store::PushStream { labels: labels.clone(), entries: entries.clone() })
                .collect();
            let out = tokio::task::spawn_blocking(move || store.push(&tenant, batch))
                .await
                .map_err(|e| agent::PushError::Retry { message: e.to_string(), retry_after: None })?
                .map_err(|e| agent::PushError::Retry { message: e.to_string(), retry_after: None })?;
            match out.status {
                store::PushStatus::Ok | store::PushStatus::Unprocessable => Ok(()),
                store::PushStatus::RateLimited => {
                    Err(agent::PushError::Retry { message: out.message, retry_after: None })
                }
                store::PushStatus::BadRequest => Err(agent::PushError::Refused(out.message)),
            }
        })
    }
}

/// On a query node (`--role query`), the push endpoints answer 403 naming the reason.
async fn refuse_pushes(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    const PUSH: [&str; 3] = ["/loki/api/v1/push", "/api/prom/push", "/otlp/v1/logs"];
    if req.method() == axum::http::Method::POST && PUSH.contains(&req.uri().path()) {
        return (
            axum::http::StatusCode::FORBIDDEN,
            "this node only answers queries (bitacora server --role query): push to a writer\n",
        )
            .into_response();
    }
    next.run(req).await
}

/// `bitacora agent`: ship this host's Docker logs to a remote push URL.
pub async fn agent_only(cfg: Config, metrics_listen: std::net::SocketAddr) -> anyhow::Result<()> {
    crate::logging::init(&cfg.log_level, false)?;
    let sink = agent::replicate::from_config(&cfg.agent)
        .map_err(anyhow::Error::msg)?
        .context("no push URL: give --push-url http://HOST:3100/loki/api/v1/push (or agent.push_urls)")?;
    let urls: Vec<String> = cfg.agent.push_url.iter().chain(&cfg.agent.push_urls).map(|u| u.masked()).collect();
    let positions = cfg.agent.positions_file.clone().unwrap_or_else(|| cfg.data_dir.join("agent-positions.json"));
    let mut registry = Registry::default();
    let a = agent::Agent::new(cfg.agent.clone(), sink, &mut registry, positions)
        .map_err(|e| anyhow::anyhow!("agent configuration: {e}"))?;
    let registry = Arc::new(registry);
    let listener = listen(metrics_listen).with_context(|| {
        format!("cannot listen on {metrics_listen} for metrics; choose another with --metrics-listen")
    })?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let r = registry.clone();
            async move {
                let mut out = String::new();
                let _ = prometheus_client::encoding::text::encode(&mut out, &r);
                out
            }
        }),
    );
    // The metrics listener closes with the agent, so that a restart binds the same port at once.
    let (metrics_stop, mut metrics_stopped) = tokio::sync::watch::channel(false);
    let metrics_server = tokio::spawn(async move {
        let stop = async move {
            let _ = metrics_stopped.changed().await;
        };
        let none = ConnMetrics::new(&mut Registry::default());
        serve_http(listener, app, &api::ApiConfig::default(), none, None, stop).await;
    });
    tracing::info!(push_urls = %urls.join(", "), "agent starting");
    a.run(shutdown_signal()).await;
    let _ = metrics_stop.send(true);
    if tokio::time::timeout(std::time::Duration::from_millis(300), metrics_server).await.is_err() {
        tracing::warn!("the metrics listener did not close in time");
    }
    Ok(())
}

/// The listener's metrics.
#[derive(Clone)]
pub struct ConnMetrics {
    open: prometheus_client::metrics::gauge::Gauge,
    accepted: prometheus_client::metrics::counter::Counter,
    closed_idle: prometheus_client::metrics::counter::Counter,
    errors: prometheus_client::metrics::counter::Counter,
}

impl ConnMetrics {
    pub fn new(r: &mut Registry) -> Self {
        let m = ConnMetrics {
            open: Default::default(),
            accepted: Default::default(),
            closed_idle: Default::default(),
            errors: Default::default(),
        };
        r.register("bitacora_http_open_connections", "HTTP connections being served", m.open.clone());
        r.register("bitacora_http_connections_accepted", "HTTP connections accepted", m.accepted.clone());
        r.register(
            "bitacora_http_connections_closed_idle",
            "Keep-alive connections closed after http_idle_timeout without a request",
            m.closed_idle.clone(),
        );
        r.register(
            "bitacora_http_connection_errors",
            "Connections ended by an error, a header read timeout (slowloris) among them",
            m.errors.clone(),
        );
        m
    }
}

/// What a connection is doing, for its idle timeout.
struct Activity {
    in_flight: AtomicUsize,
    last: Mutex<Instant>,
}

impl Activity {
    fn stamp(&self) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// When the connection will have been idle for `idle`, if nothing starts before.
    fn idle_deadline(&self, idle: Duration) -> Instant {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Instant::now() + idle;
        }
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) + idle
    }
}

/// A request in flight on a connection: counted from its start to its response head.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(a: Arc<Activity>) -> Self {
        a.in_flight.fetch_add(1, Ordering::AcqRel);
        a.stamp();
        InFlight(a)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.stamp();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How many connections may wait in the kernel's accept queue. Connections beyond
/// `max_connections` wait there for a slot, so it must hold a burst of them: with the 128 that
/// `TcpListener::bind` asks for, a burst overflows it and Linux drops, then resets, the
/// handshakes it cannot queue. The kernel caps this at `net.core.somaxconn` (4096 by default).
const LISTEN_BACKLOG: u32 = 4096;

/// Binds a TCP listener (address reuse on, as `TcpListener::bind`) with [`LISTEN_BACKLOG`].
fn listen(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets the open connections finish
/// their requests (at most 30 s) before returning.
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    cfg: &api::ApiConfig,
    metrics: ConnMetrics,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::TokioTimer;
    use tower::ServiceExt;

    let max = cfg.max_connections.max(1);
    let slots = Arc::new(tokio::sync::Semaphore::new(max));
    let header_timeout = nonzero(cfg.http_header_read_timeout.0);
    let idle = nonzero(cfg.http_idle_timeout.0);
    let handshake_timeout = header_timeout.unwrap_or(Duration::from_secs(30));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        metrics.accepted.inc();
        let metrics = metrics.clone();
        let activity = Arc::new(Activity { in_flight: AtomicUsize::new(0), last: Mutex::new(Instant::now()) });
        let conn_info = api::auth::ClientConn { peer, tls: tls.is_some() };
        let svc = {
            let (app, activity) = (app.clone(), activity.clone());
            hyper::service::service_fn(move |req: axum::http::Request<hyper::body::Incoming>| {
                let guard = InFlight::new(activity.clone());
                let app = app.clone();
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(conn_info);
                async move {
                    let resp = app.oneshot(req).await;
                    drop(guard);
                    resp
                }
            })
        };
        let stop = stop_rx.clone();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(header_timeout);
        let tls = tls.clone();
        tokio::spawn(async move {
            let _permit = permit;
            metrics.open.inc();
            let conn = Conn { http, stop, activity, idle, metrics: metrics.clone(), peer };
            match tls {
                None => conn.drive(stream, svc).await,
                // The handshake is bounded like a request's header (slowloris over TLS).
                Some(acceptor) => match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(s)) => conn.drive(s, svc).await,
                    Ok(Err(e)) => {
                        metrics.errors.inc();
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    }
                    Err(_) => {
                        metrics.errors.inc();
                        tracing::debug!(%peer, "TLS handshake timed out");
                    }
                },
            }
            metrics.open.dec();
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot: all slots back means all connections are done.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(Duration::from_secs(30), slots.acquire_many(all)).await.is_err() {
        tracing::warn!("connections still open 30 s after shutdown began; closing them");
    }
}

/// One accepted connection's HTTP serving, over TCP or TLS.
struct Conn {
    http: hyper::server::conn::http1::Builder,
    stop: tokio::sync::watch::Receiver<bool>,
    activity: Arc<Activity>,
    idle: Option<Duration>,
    metrics: ConnMetrics,
    peer: std::net::SocketAddr,
}

impl Conn {
    async fn drive<I, S>(mut self, io: I, svc: S)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
        S: hyper::service::HttpService<hyper::body::Incoming, ResBody = axum::body::Body> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (peer, metrics, activity, idle) = (self.peer, &self.metrics, &self.activity, self.idle);
        let conn = self.http.serve_connection(hyper_util::rt::TokioIo::new(io), svc).with_upgrades();
        tokio::pin!(conn);
        let mut closing = false;
        loop {
            let idle_at = idle.map(|d| activity.idle_deadline(d));
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        metrics.errors.inc();
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    break;
                }
                _ = self.stop.changed(), if !closing => {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ = tokio::time::sleep_until(idle_at.unwrap_or_else(Instant::now).into()), if !closing && idle_at.is_some() => {
                    if activity.idle_deadline(idle.unwrap_or_default()) <= Instant::now() {
                        tracing::debug!(%peer, "closing an idle connection");
                        metrics.closed_idle.inc();
                        conn.as_mut().graceful_shutdown();
                        closing = true;
                    }
                }
            }
        }
    }
}
