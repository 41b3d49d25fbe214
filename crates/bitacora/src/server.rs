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
    let state = api::AppState::new(store.clone(), cfg.api.clone(), registry, cfg.to_yaml());
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
