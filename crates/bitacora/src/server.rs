//! Wiring: open the store, start its background work, serve the API until a signal, flush.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context;
use prometheus_client::registry::Registry;

use crate::config::Config;

pub async fn serve(cfg: Config, all_in_one: bool) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&cfg.log_level))
        .context("log_level")?;
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();

    let mut registry = Registry::default();
    let store = {
        let (dir, sc, limits) = (cfg.data_dir.clone(), cfg.store.clone(), cfg.limits.clone());
        let mut reg = std::mem::take(&mut registry);
        let (store, reg) = tokio::task::spawn_blocking(move || {
            let s = store::Store::open(&dir, sc, limits, &mut reg);
            (s, reg)
        })
        .await?;
        registry = reg;
        Arc::new(store?)
    };
    let _background = store.spawn_background();
    let agent = if all_in_one {
        let mut acfg = cfg.agent.clone();
        // Into the local store there is no network hop: ship small batches quickly.
        acfg.batch_wait = model::duration::PromDuration(std::time::Duration::from_millis(100));
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
    let state = api::AppState::new(store.clone(), cfg.api.clone(), registry, cfg.to_yaml());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let agent_task = agent.map(|a| {
        let mut rx = stop_rx.clone();
        tokio::spawn(a.run(async move {
            let _ = rx.changed().await;
        }))
    });
    let app = api::router(state.clone());
    let listener = tokio::net::TcpListener::bind(cfg.listen).await.with_context(|| {
        format!("cannot listen on {}; is another server using it? Choose another with --listen", cfg.listen)
    })?;
    tracing::info!(
        listen = %listener.local_addr()?,
        data_dir = %cfg.data_dir.display(),
        mode = if all_in_one { "run" } else { "server" },
        "bitácora is ready"
    );
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    state.ready.store(false, Ordering::Relaxed);
    let _ = stop_tx.send(true);
    if let Some(t) = agent_task {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), t).await;
    }
    tracing::info!("shutting down: cutting the heads to segments");
    let s = store.clone();
    tokio::task::spawn_blocking(move || s.flush()).await??;
    Ok(())
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

/// `bitacora agent`: ship this host's Docker logs to a remote push URL.
pub async fn agent_only(cfg: Config, metrics_listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&cfg.log_level))
        .context("log_level")?;
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
    let url = cfg.agent.push_url.clone().context("no push URL: give --push-url http://HOST:3100/loki/api/v1/push")?;
    let sink = Arc::new(agent::HttpSink::new(url.expose(), &cfg.agent));
    let positions = cfg.agent.positions_file.clone().unwrap_or_else(|| cfg.data_dir.join("agent-positions.json"));
    let mut registry = Registry::default();
    let a = agent::Agent::new(cfg.agent.clone(), sink, &mut registry, positions)
        .map_err(|e| anyhow::anyhow!("agent configuration: {e}"))?;
    let registry = Arc::new(registry);
    let listener = tokio::net::TcpListener::bind(metrics_listen).await.with_context(|| {
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
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    tracing::info!(push_url = %url, "agent starting");
    a.run(shutdown_signal()).await;
    Ok(())
}
