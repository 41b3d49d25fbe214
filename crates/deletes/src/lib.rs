//! Log deletion as Loki's compactor does it: delete requests (a log selector with optional
//! pipeline, a time range), their persistence under the data directory, the filter that hides
//! their lines from every query at once, and their removal from disk by the store's compaction
//! once the cancel period is over (then the request is "processed").
//!
//! | module | holds |
//! |---|---|
//! | `config` | [`DeletesConfig`]: cancel period, the largest shard, the processing tick |
//! | `time` | Loki's time parameters, `model.Time` JSON numbers, sharding by interval |
//! | `filter` | a request's query compiled: matchers and pipeline |
//! | `request` | requests, their shards and statuses, the listing's JSON |
//! | `create` | a new request from its parameters, with Loki's checks and texts |
//! | `persist` | the requests file, written atomically |
//! | `registry` | [`Deletes`]: the requests of every tenant, query-time filters, the store's purge hook |
//! | `processor` | the background thread that carries requests out |
//! | `metrics` | Prometheus metrics |
//!
//! It knows no HTTP (the `api` crate reads parameters and writes answers) and no storage format:
//! it tells the store, through [`store::Purge`], which entries to drop.

mod config;
mod create;
mod filter;
mod metrics;
mod persist;
mod processor;
mod registry;
mod request;
mod time;

pub use config::DeletesConfig;
pub use create::{CreateParams, NewRequest};
pub use registry::{CancelError, Deletes, EntryFilter};
pub use request::{RequestView, Status};
pub use time::parse_time;
