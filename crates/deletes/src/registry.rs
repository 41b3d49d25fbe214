//! [`Deletes`]: every tenant's delete requests, with their compiled queries; creating, listing
//! and cancelling them; the filter queries read through; and the store's purge hook.

use std::path::PathBuf;
use std::sync::Arc;

use model::{Entry, Labels};
use parking_lot::RwLock;
use prometheus_client::registry::Registry;

use crate::config::DeletesConfig;
use crate::create::{CreateParams, check};
use crate::filter::{Compiled, LineTest};
use crate::metrics::{Metrics, User};
use crate::persist;
use crate::request::{Request, RequestView, Shard, Status, request_id};
use crate::time::now_ms;

const NS_PER_MS: i64 = 1_000_000;

struct Held {
    req: Request,
    compiled: Arc<Compiled>,
}

/// Why a cancellation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelError {
    /// 404 `could not find delete request with given id`.
    NotFound,
    /// 400 with Loki's text.
    BadRequest(String),
    /// 500: the requests file could not be written.
    Internal(String),
}

/// The delete requests of every tenant.
pub struct Deletes {
    cfg: DeletesConfig,
    /// Where requests are kept; `None`: in memory only (tests, benchmarks).
    path: Option<PathBuf>,
    held: RwLock<Vec<Held>>,
    pub(crate) metrics: Metrics,
}

impl Deletes {
    /// Loads the requests kept in `<data_dir>/delete_requests.json`.
    pub fn open(
        data_dir: &std::path::Path,
        cfg: DeletesConfig,
        registry: &mut Registry,
    ) -> Result<Arc<Deletes>, String> {
        let path = data_dir.join("delete_requests.json");
        let mut held = Vec::new();
        for req in persist::load(&path)? {
            match Compiled::parse(&req.query) {
                Ok(c) => held.push(Held { req, compiled: Arc::new(c) }),
                Err(e) => {
                    tracing::error!(request_id = %req.request_id, error = %e, "delete request with an unreadable query ignored")
                }
            }
        }
        let d = Deletes { cfg, path: Some(path), held: RwLock::new(held), metrics: Metrics::new(registry) };
        d.update_pending();
        if !d.held.read().is_empty() {
            tracing::info!(requests = d.held.read().len(), "loaded delete requests");
        }
        Ok(Arc::new(d))
    }

    /// No requests, kept nowhere: for sources that need a `Deletes` in tests and benchmarks.
    pub fn none() -> Arc<Deletes> {
        Arc::new(Deletes {
            cfg: DeletesConfig::default(),
            path: None,
            held: RwLock::new(Vec::new()),
            metrics: Metrics::default(),
        })
    }

    pub fn config(&self) -> &DeletesConfig {
        &self.cfg
    }

    fn save(&self, held: &[Held]) -> Result<(), String> {
        let Some(path) = &self.path else { return Ok(()) };
        let reqs: Vec<Request> = held.iter().map(|h| h.req.clone()).collect();
        persist::save(path, &reqs).map_err(|e| format!("writing {}: {e}", path.display()))
    }

    fn update_pending(&self) {
        let n = self.held.read().iter().filter(|h| h.req.shards.iter().any(|s| s.status == Status::Received)).count();
        self.metrics.pending.set(n as i64);
    }

    /// Adds a request for `tenant`. `Err((400?, text))`: bad parameters (true) or a failed write.
    pub fn create(&self, tenant: &str, p: &CreateParams) -> Result<String, (bool, String)> {
        let now = now_ms();
        let new = check(p, self.cfg.max_interval.0.as_millis() as i64, now).map_err(|e| (true, e))?;
        let mut held = self.held.write();
        let mut ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut id = request_id(tenant, ns, &new.query);
        while held.iter().any(|h| h.req.user_id == tenant && h.req.request_id == id) {
            ns += 1;
            id = request_id(tenant, ns, &new.query);
        }
        let req = Request {
            request_id: id.clone(),
            user_id: tenant.to_string(),
            query: new.query.clone(),
            created_at_ms: now,
            shards: new
                .shards
                .iter()
                .map(|&(s, e)| Shard { start_ms: s, end_ms: e, status: Status::Received })
                .collect(),
        };
        held.push(Held { req, compiled: new.compiled });
        if let Err(e) = self.save(&held) {
            held.pop();
            return Err((false, e));
        }
        drop(held);
        self.metrics.received.get_or_create(&User { user: tenant.to_string() }).inc();
        self.update_pending();
        tracing::info!(delete_request_id = %id, user = tenant, query = %new.query, shards = new.shards.len(), "delete request added");
        Ok(id)
    }

    /// The tenant's requests, oldest first; with a range, those overlapping it (ms, inclusive).
    pub fn list(&self, tenant: &str, range: Option<(i64, i64)>) -> Vec<RequestView> {
        let mut v: Vec<RequestView> = self
            .held
            .read()
            .iter()
            .filter(|h| h.req.user_id == tenant)
            .map(|h| h.req.view())
            .filter(|r| range.is_none_or(|(s, e)| r.start_ms <= e && r.end_ms >= s))
            .collect();
        v.sort_by_key(|r| r.created_at_ms);
        v
    }

    /// Cancels a request not yet carried out: its lines show again. After its cancel period
    /// (or once partly carried out) only with `force`, which drops what is not carried out yet.
    pub fn cancel(&self, tenant: &str, id: &str, force: bool) -> Result<(), CancelError> {
        let mut held = self.held.write();
        let Some(i) = held.iter().position(|h| h.req.user_id == tenant && h.req.request_id == id) else {
            return Err(CancelError::NotFound);
        };
        let req = &held[i].req;
        let status = req.status();
        if status == "processed" {
            return Err(CancelError::BadRequest(
                "deletion of request which is in process or already processed is not allowed".into(),
            ));
        }
        let period = self.cfg.cancel_period.0.as_millis() as i64;
        if (status != "received" || req.created_at_ms + period < now_ms()) && !force {
            return Err(CancelError::BadRequest(format!(
                "Cancellation of partially completed delete request or delete request past the deadline of {} since its creation is not allowed. To force, use the ?force query parameter",
                logql::format_go_duration(period.saturating_mul(NS_PER_MS))
            )));
        }
        let before = held[i].req.shards.clone();
        held[i].req.shards.retain(|s| s.status == Status::Processed);
        let taken = if held[i].req.shards.is_empty() { Some(held.remove(i)) } else { None };
        if let Err(e) = self.save(&held) {
            match taken {
                Some(mut h) => {
                    h.req.shards = before;
                    held.insert(i, h);
                }
                None => held[i].req.shards = before,
            }
            return Err(CancelError::Internal(e));
        }
        drop(held);
        self.metrics.cancelled.get_or_create(&User { user: tenant.to_string() }).inc();
        self.update_pending();
        tracing::info!(delete_request_id = id, user = tenant, "delete request cancelled");
        Ok(())
    }

    /// The filter hiding deleted lines of one stream read over `[start, end)` (ns): every
    /// request of the tenant (received or processed) whose matchers accept the stream and whose
    /// range overlaps the window. `None` when no request touches it.
    pub fn filter(&self, tenant: &str, labels: &Labels, start: i64, end: i64) -> Option<EntryFilter> {
        self.tests(tenant, labels, |_, s| {
            s.start_ms.saturating_mul(NS_PER_MS) < end && s.end_ms.saturating_mul(NS_PER_MS) >= start
        })
    }

    /// The requests of `tenant` matching `labels`, each with its shards that `keep` accepts.
    fn tests(&self, tenant: &str, labels: &Labels, keep: impl Fn(&Request, &Shard) -> bool) -> Option<EntryFilter> {
        let held = self.held.read();
        let mut tests = Vec::new();
        for h in held.iter().filter(|h| h.req.user_id == tenant) {
            let spans: Vec<(i64, i64)> = h
                .req
                .shards
                .iter()
                .filter(|s| keep(&h.req, s))
                .map(|s| (s.start_ms.saturating_mul(NS_PER_MS), s.end_ms.saturating_mul(NS_PER_MS)))
                .collect();
            if !spans.is_empty() && h.compiled.matches(labels) {
                tests.push((spans, h.compiled.line_test()));
            }
        }
        if tests.is_empty() { None } else { Some(EntryFilter { labels: labels.clone(), tests, counter: None }) }
    }

    /// Whether a shard may leave the disk now: carried out already, or past its cancel period.
    fn due(&self, req: &Request, s: &Shard, now: i64) -> bool {
        s.status == Status::Processed || req.created_at_ms + self.cfg.cancel_period.0.as_millis() as i64 <= now
    }

    /// Carries out the requests past their cancel period: the store rewrites what holds their
    /// lines, then they are marked processed. Returns how many requests were carried out.
    pub fn process(&self, store: &store::Store) -> Result<usize, String> {
        let now = now_ms();
        let due: Vec<(String, String)> = self
            .held
            .read()
            .iter()
            .filter(|h| h.req.shards.iter().any(|s| s.status == Status::Received && self.due(&h.req, s, now)))
            .map(|h| (h.req.user_id.clone(), h.req.request_id.clone()))
            .collect();
        if due.is_empty() {
            return Ok(0);
        }
        if let Err(e) = store.purge() {
            self.metrics.failures.inc();
            return Err(e.to_string());
        }
        let mut held = self.held.write();
        let mut done = Vec::new();
        for h in held.iter_mut() {
            if !due.iter().any(|(t, id)| *t == h.req.user_id && *id == h.req.request_id) {
                continue;
            }
            let created = h.req.created_at_ms;
            let period = self.cfg.cancel_period.0.as_millis() as i64;
            for s in h.req.shards.iter_mut() {
                if s.status == Status::Received && created + period <= now {
                    s.status = Status::Processed;
                }
            }
            if h.req.status() == "processed" {
                done.push((h.req.user_id.clone(), h.req.request_id.clone()));
            }
        }
        if let Err(e) = self.save(&held) {
            // The lines are gone from disk already; the status is written at the next attempt.
            self.metrics.failures.inc();
            return Err(e);
        }
        drop(held);
        for (user, id) in &done {
            self.metrics.processed.get_or_create(&User { user: user.clone() }).inc();
            tracing::info!(delete_request_id = %id, user = %user, "delete request processed: its lines are removed from disk");
        }
        self.update_pending();
        Ok(done.len())
    }
}

impl store::Purge for Deletes {
    fn pending(&self, tenant: &str, labels: &Labels) -> Vec<(i64, i64)> {
        let now = now_ms();
        let held = self.held.read();
        let mut out = Vec::new();
        for h in held.iter().filter(|h| h.req.user_id == tenant) {
            let mut spans = h
                .req
                .shards
                .iter()
                .filter(|s| s.status == Status::Received && self.due(&h.req, s, now))
                .map(|s| (s.start_ms.saturating_mul(NS_PER_MS), s.end_ms.saturating_mul(NS_PER_MS)))
                .peekable();
            if spans.peek().is_some() && h.compiled.matches(labels) {
                out.extend(spans);
            }
        }
        out
    }

    fn remover(&self, tenant: &str, labels: &Labels) -> Option<store::Remover> {
        let now = now_ms();
        let mut f = self.tests(tenant, labels, |req, s| self.due(req, s, now))?;
        f.counter = Some(self.metrics.deleted_lines.get_or_create(&User { user: tenant.to_string() }).clone());
        Some(Box::new(move |e: &Entry| f.deletes(e)))
    }
}

/// The deleted-line test of one stream.
pub struct EntryFilter {
    labels: Labels,
    tests: Vec<(Vec<(i64, i64)>, LineTest)>,
    counter: Option<prometheus_client::metrics::counter::Counter>,
}

impl EntryFilter {
    /// Whether a request deletes this entry.
    pub fn deletes(&mut self, e: &Entry) -> bool {
        for (spans, test) in &mut self.tests {
            if spans.iter().any(|&(s, end)| e.ts >= s && e.ts <= end) && test.deletes(&self.labels, e) {
                if let Some(c) = &self.counter {
                    c.inc();
                }
                return true;
            }
        }
        false
    }

    /// Whether any request removes entries in `[start, end]` (ns).
    pub fn overlaps(&self, start: i64, end: i64) -> bool {
        self.tests.iter().any(|(spans, _)| spans.iter().any(|&(s, e)| s <= end && e >= start))
    }
}
