//! The apps room: answers "which apps and containers are there, in what state, how busy" for a
//! tenant, from the Docker engine when this host's engine is the tenant's, else from the
//! recorded events; every answer is bounded by `apps.timeout`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

use crate::activity::{self, Querier};
use crate::engine::Engine;
use crate::metrics::Metrics;
use crate::model::{AppsAnswer, Container};
use crate::stats::Stats;

/// `apps:` in the configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppsConfig {
    /// A container's stats stream stays open this long after the last request that asked for
    /// its numbers.
    pub stats_linger: model::duration::PromDuration,
    /// The longest an answer may take (Docker calls and store queries together).
    pub timeout: model::duration::PromDuration,
}

impl Default for AppsConfig {
    fn default() -> Self {
        AppsConfig {
            stats_linger: model::duration::PromDuration(Duration::from_secs(30)),
            timeout: model::duration::PromDuration(Duration::from_secs(10)),
        }
    }
}

/// Why there is no answer.
#[derive(Debug)]
pub enum Error {
    /// The request names no container id.
    BadId(String),
    /// The store's queries failed or ran out of time.
    Store(String),
}

pub struct Apps {
    engine: Engine,
    /// Whose containers the local engine runs (the agent's tenant); other tenants see events.
    engine_tenant: String,
    stats: Arc<Stats>,
    querier: Arc<dyn Querier>,
    pub(crate) metrics: Metrics,
    timeout: Duration,
}

impl Apps {
    /// `docker_host`: the local engine's socket (`unix:///var/run/docker.sock`); empty: none.
    pub fn new(
        cfg: &AppsConfig,
        docker_host: &str,
        engine_tenant: String,
        querier: Arc<dyn Querier>,
        registry: &mut Registry,
    ) -> Arc<Apps> {
        let metrics = Metrics::new(registry);
        Arc::new(Apps {
            engine: Engine::new(docker_host, metrics.clone()),
            engine_tenant,
            stats: Stats::new(cfg.stats_linger.0, metrics.clone()),
            querier,
            metrics,
            timeout: cfg.timeout.0,
        })
    }

    /// Starts closing stats streams nobody asks for (on the current runtime).
    pub fn start(&self) -> tokio::task::JoinHandle<()> {
        self.stats.spawn_reaper()
    }

    /// Live containers from the engine, `None` when it is not this tenant's or cannot answer.
    async fn live(&self, tenant: &str, deadline: Instant) -> Option<Vec<Container>> {
        if tenant != self.engine_tenant {
            return None;
        }
        match self.engine.containers(deadline).await {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::debug!(error = %e, "apps: no live state from the Docker engine");
                None
            }
        }
    }

    /// Adds live CPU and memory to running containers (opening their stats streams).
    async fn with_stats(&self, containers: &mut [Container]) {
        let Ok(d) = self.engine.docker().await else { return };
        for c in containers.iter_mut().filter(|c| c.state == "running") {
            let l = self.stats.get(&d, &c.id);
            c.cpu_percent = l.cpu_percent;
            c.memory_bytes = l.memory_bytes;
        }
    }

    /// Marks the OOM kills the engine missed, from the recorded OOM events (read only when a
    /// container exited with 137 and the engine says no OOM kill).
    async fn mend_ooms(
        &self,
        tenant: &str,
        containers: &mut [Container],
        now_ns: i64,
        deadline: Instant,
    ) -> Result<(), Error> {
        let Some(since) = crate::ooms::earliest_suspect(containers) else { return Ok(()) };
        let t = tenant.to_string();
        let ooms = self.blocking(move |q| crate::ooms::recorded(q, &t, since, now_ns, deadline)).await?;
        crate::ooms::apply(containers, &ooms);
        Ok(())
    }

    /// Runs a blocking store read on the blocking pool, timed.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Querier) -> Result<T, String> + Send + 'static,
    ) -> Result<T, Error> {
        let q = self.querier.clone();
        let started = Instant::now();
        let r = tokio::task::spawn_blocking(move || f(q.as_ref())).await.map_err(|e| Error::Store(e.to_string()))?;
        self.metrics.query_seconds.observe(started.elapsed().as_secs_f64());
        r.map_err(Error::Store)
    }

    /// `GET /api/apps`.
    pub async fn list(&self, tenant: &str) -> Result<AppsAnswer, Error> {
        let deadline = Instant::now() + self.timeout;
        let now = jiff::Timestamp::now();
        let now_ns = now.as_nanosecond() as i64;
        let minutes_start = activity::minutes_start(now_ns);
        let t = tenant.to_string();
        let store_part = self.blocking(move |q| {
            let a = activity::activity(q, &t, minutes_start, now_ns, deadline)?;
            let d = activity::last_deploys(q, &t, now_ns, deadline)?;
            let n = crate::renames::stable_names(q, &t, now_ns, deadline)?;
            Ok((a, d, n))
        });
        let (live, store_part) = tokio::join!(self.live(tenant, deadline), store_part);
        let (activity, deploys, names) = store_part?;
        let engine = live.is_some();
        let containers = match live {
            Some(mut c) => {
                crate::renames::apply(&mut c, &names);
                self.mend_ooms(tenant, &mut c, now_ns, deadline).await?;
                self.with_stats(&mut c).await;
                c
            }
            None => {
                let t = tenant.to_string();
                self.blocking(move |q| crate::events::containers(q, &t, now_ns, deadline)).await?
            }
        };
        Ok(AppsAnswer {
            engine,
            now: now.to_string(),
            minutes_start,
            apps: crate::assemble::apps(containers, activity, deploys),
        })
    }

    /// `GET /api/apps/containers/{id}`: one container by its full id or a prefix of at least
    /// 12 hex digits; `Ok(None)` if there is none.
    pub async fn container(&self, tenant: &str, id: &str) -> Result<(bool, Option<Container>), Error> {
        let id = id.to_ascii_lowercase();
        if !(12..=64).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::BadId(format!(
                "bad container id {id:?}: expected the full id or its first 12 (or more) hex digits"
            )));
        }
        let deadline = Instant::now() + self.timeout;
        if tenant == self.engine_tenant {
            match self.engine.container(&id, deadline).await {
                Ok(Some(mut c)) => {
                    if c.app.is_none() {
                        let t = tenant.to_string();
                        let now_ns = jiff::Timestamp::now().as_nanosecond() as i64;
                        let names =
                            self.blocking(move |q| crate::renames::stable_names(q, &t, now_ns, deadline)).await?;
                        crate::renames::apply(std::slice::from_mut(&mut c), &names);
                    }
                    let now_ns = jiff::Timestamp::now().as_nanosecond() as i64;
                    self.mend_ooms(tenant, std::slice::from_mut(&mut c), now_ns, deadline).await?;
                    self.with_stats(std::slice::from_mut(&mut c)).await;
                    return Ok((true, Some(c)));
                }
                Ok(None) => return Ok((true, None)),
                Err(e) => tracing::debug!(error = %e, "apps: no live state from the Docker engine"),
            }
        }
        let now_ns = jiff::Timestamp::now().as_nanosecond() as i64;
        let t = tenant.to_string();
        let all = self.blocking(move |q| crate::events::containers(q, &t, now_ns, deadline)).await?;
        Ok((false, all.into_iter().find(|c| c.id.len() >= 12 && (c.id.starts_with(&id) || id.starts_with(&c.id)))))
    }

    /// Stats streams open now.
    pub fn open_stats_streams(&self) -> usize {
        self.stats.open()
    }
}
