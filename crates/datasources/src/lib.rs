//! Data sources as Grafana knows them, served by Bitácora: the built-in one (`uid: bitacora`,
//! type `loki`, this server's own store, the default), and Prometheus or Loki servers declared in
//! Grafana's provisioning format (`<provisioning_dir>/datasources/*.yml`, `apiVersion: 1`,
//! `datasources:`), re-read when the files change. It owns their listing on Grafana's routes
//! (`GET /api/datasources`, `/uid/{uid}`, `/name/{name}`, `/{id}`, secrets masked) and the query
//! proxy (`/api/datasources/proxy/uid/{uid}/{*path}`, `/api/datasources/proxy/{id}/{*path}`),
//! which adds credentials server-side, lets only query endpoints through, and serves the
//! built-in data source in process through the router the binary hands it.
//!
//! It never knows the store, LogQL, dashboards or the access rules (the router it forwards to
//! applies them to the caller's own credentials).
//!
//! Dependencies beyond the workspace's usual ones: `base64` (basic auth towards upstreams).

mod allowed;
mod http;
mod metrics;
pub mod provisioning;
mod proxy;
mod set;
pub mod source;

pub use allowed::allowed_path;
pub use set::{BUILTIN_UID, DataSources};
pub use source::{DataSource, Kind};
