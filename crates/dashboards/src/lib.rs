//! Grafana dashboards served by Bitácora: the dashboard JSON model stored as given (plus `id`,
//! `uid`, `version`), with its last versions, folders, search and tags, on Grafana's HTTP routes
//! (`/api/dashboards/...`, `/api/search`, `/api/folders`). It owns the storage under
//! `<data_dir>/dashboards/` (one JSON file per dashboard with its versions, one for folders,
//! written atomically), the provisioning of dashboards from Grafana provider files
//! (`<provisioning_dir>/dashboards/*.yml`, watched by polling) and the built-in dashboards
//! ("Dokku host", "Overview of Bitácora"), which are read-only.
//!
//! It never knows data sources, the store, LogQL, or who may do what (the API's access rules
//! run before its routes; it only receives the caller's name for `createdBy`/`updatedBy`).
//!
//! Dependencies beyond the workspace's usual ones: `getrandom` (generated uids) and
//! `form_urlencoded` (search's repeated query parameters).

mod builtin;
mod disk;
mod error;
mod http;
mod metrics;
pub mod provisioning;
pub mod record;
mod search;
pub mod slug;
mod store;

pub use error::Error;
pub use provisioning::Provisioner;
pub use record::{Folder, Provisioned, Version};
pub use search::{Hit, SearchQuery};
pub use store::{Dashboards, SaveRequest, Saved};

/// The largest dashboard JSON accepted (bytes).
pub const MAX_DASHBOARD_BYTES: usize = 10 << 20;

/// How many versions of a dashboard are kept.
pub const KEEP_VERSIONS: usize = 20;

/// Who is asking: the name for `createdBy`/`updatedBy`, and whether the access rules let them
/// change dashboards (for `meta.canSave`).
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub can_write: bool,
}

/// The binary derives the [`Caller`] from the request.
pub type UserOf = std::sync::Arc<dyn Fn(&axum::http::request::Parts) -> Caller + Send + Sync>;
