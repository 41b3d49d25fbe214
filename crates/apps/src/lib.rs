//! Bitácora's apps: what runs now and how it is doing. `GET /api/apps` answers every Dokku app
//! (and every container outside Dokku) with its process types and containers (state, health,
//! restarts, exit code, OOM kill, image, live CPU and memory), its last deploy, its lines and
//! error lines per minute over the last hour and its newest error line;
//! `GET /api/apps/containers/{id}` answers one container.
//!
//! It owns the live state of containers (read from the Docker engine on each request, or
//! replayed from the recorded container events when there is no engine), the stats streams
//! (opened only while someone asks, see [`stats`]), and the shape of these answers.
//!
//! It must never know LogQL's syntax internals (it writes queries as text and reads results
//! through the [`Querier`] port, which the binary implements with the store and the LogQL
//! engine), the HTTP of the Loki API, or the store's format.
//!
//! | module | holds |
//! |---|---|
//! | `model` | the JSON shapes |
//! | `engine` | the Docker engine's containers, Dokku's labels |
//! | `stats` | the on-demand stats streams, `docker stats`'s CPU and memory numbers |
//! | `logfmt` | reading event lines |
//! | `activity` | the [`Querier`] port; lines and errors per minute, last error, last deploy |
//! | `events` | containers replayed from recorded events (no engine) |
//! | `ooms` | OOM kills the engine missed, from recorded OOM events |
//! | `renames` | the names renamed containers' lines carry, from rename events |
//! | `assemble` | grouping by app, sorting |
//! | `service` | [`Apps`]: one answer, engine or events, bounded in time |
//! | `http` | the routes |
//! | `metrics` | requests, engine errors, open stats streams, samples, query time |
//!
//! Dependency beyond the workspace's usual ones: `bollard` (the Docker API, as the agent uses).

pub mod activity;
mod assemble;
pub mod engine;
pub mod events;
mod http;
mod logfmt;
mod metrics;
pub mod model;
mod ooms;
mod renames;
mod service;
pub mod stats;

use std::sync::Arc;

pub use activity::Querier;
pub use service::{Apps, AppsConfig, Error};

/// The tenant of a request, or the response refusing it.
pub type TenantOf = Arc<dyn Fn(&axum::http::HeaderMap) -> Result<String, axum::response::Response> + Send + Sync>;

impl Apps {
    /// The routes (`/api/apps`, `/api/apps/containers/{id}`).
    pub fn router(self: &Arc<Self>, tenant_of: TenantOf) -> axum::Router {
        http::router(self.clone(), tenant_of)
    }
}
