//! The Docker engine's containers now: a list, then an inspection of each, mapped to
//! [`Container`] with Dokku's labels (`com.dokku.app-name`, `com.dokku.process-type`,
//! `com.dokku.dyno`) giving the app, process type, dyno and the stable name `<app>.<dyno>`.
//!
//! The connection is made on first use and, when the socket is missing or the engine does not
//! answer, tried again at most every [`RETRY`], so a server without Docker pays nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum};
use bollard::query_parameters::ListContainersOptionsBuilder;
use futures_util::StreamExt;
use parking_lot::Mutex;

use crate::metrics::Metrics;
use crate::model::Container;

/// How long after a failed connection the next one is tried.
const RETRY: Duration = Duration::from_secs(10);

/// Inspections in flight at once.
const PARALLEL_INSPECTS: usize = 8;

/// The Docker engine at a socket, connected on demand.
pub struct Engine {
    /// A unix socket path; `None`: no engine configured.
    socket: Option<String>,
    state: Mutex<Conn>,
    metrics: Metrics,
}

#[derive(Default)]
struct Conn {
    docker: Option<Docker>,
    failed_at: Option<Instant>,
}

impl Engine {
    /// `host`: `unix:///var/run/docker.sock` or a path; empty: no engine.
    pub fn new(host: &str, metrics: Metrics) -> Engine {
        let path = host.trim_start_matches("unix://");
        Engine { socket: (!path.is_empty()).then(|| path.to_string()), state: Mutex::new(Conn::default()), metrics }
    }

    /// The connected client; `Err` says why there is none.
    pub async fn docker(&self) -> Result<Docker, String> {
        let Some(path) = &self.socket else { return Err("no Docker host configured".into()) };
        {
            let s = self.state.lock();
            if let Some(d) = &s.docker {
                return Ok(d.clone());
            }
            if s.failed_at.is_some_and(|t| t.elapsed() < RETRY) {
                return Err(format!("the Docker engine at {path} did not answer recently"));
            }
        }
        let r = connect(path).await;
        let mut s = self.state.lock();
        match r {
            Ok(d) => {
                s.docker = Some(d.clone());
                s.failed_at = None;
                Ok(d)
            }
            Err(e) => {
                s.failed_at = Some(Instant::now());
                self.metrics.engine_errors.inc();
                Err(e)
            }
        }
    }

    /// Every container of the engine (running or not), before `deadline`.
    pub async fn containers(&self, deadline: Instant) -> Result<Vec<Container>, String> {
        let d = self.docker().await?;
        let work = async {
            let opts = ListContainersOptionsBuilder::default().all(true).build();
            let list = d.list_containers(Some(opts)).await.map_err(|e| format!("listing containers: {e}"))?;
            let ids: Vec<String> = list.into_iter().filter_map(|c| c.id).collect();
            let inspected: Vec<Option<Container>> = futures_util::stream::iter(ids)
                .map(|id| {
                    let d = d.clone();
                    // One that is gone between the list and its inspection is left out.
                    async move { d.inspect_container(&id, None).await.ok().map(from_inspect) }
                })
                .buffer_unordered(PARALLEL_INSPECTS)
                .collect()
                .await;
            Ok(inspected.into_iter().flatten().collect())
        };
        let r = tokio::time::timeout_at(deadline.into(), work)
            .await
            .unwrap_or_else(|_| Err("the Docker engine did not answer in time".into()));
        if r.is_err() {
            self.metrics.engine_errors.inc();
        }
        r
    }

    /// One container by its full id or an id prefix; `Ok(None)` if the engine knows none.
    pub async fn container(&self, id: &str, deadline: Instant) -> Result<Option<Container>, String> {
        let d = self.docker().await?;
        let work = async {
            match d.inspect_container(id, None).await {
                // A prefix could also be another container's name: only an id match counts.
                Ok(c) if c.id.as_deref().is_some_and(|full| full.starts_with(id)) => Ok(Some(from_inspect(c))),
                Ok(_) => Ok(None),
                Err(bollard::errors::Error::DockerResponseServerError { status_code, .. })
                    if (400..500).contains(&status_code) =>
                {
                    Ok(None)
                }
                Err(e) => Err(format!("inspecting container {id}: {e}")),
            }
        };
        let r = tokio::time::timeout_at(deadline.into(), work)
            .await
            .unwrap_or_else(|_| Err("the Docker engine did not answer in time".into()));
        if r.is_err() {
            self.metrics.engine_errors.inc();
        }
        r
    }
}

async fn connect(path: &str) -> Result<Docker, String> {
    if !std::path::Path::new(path).exists() {
        return Err(format!("the Docker socket {path} does not exist"));
    }
    let d = Docker::connect_with_socket(path, 10, bollard::API_DEFAULT_VERSION).map_err(|e| e.to_string())?;
    let d = tokio::time::timeout(Duration::from_secs(5), d.negotiate_version())
        .await
        .map_err(|_| format!("the Docker engine at {path} did not answer in 5 s"))?
        .map_err(|e| format!("cannot talk to Docker at {path}: {e}"))?;
    Ok(d)
}

/// A Docker timestamp as RFC 3339; Docker's zero time (`0001-01-01T00:00:00Z`) is none.
fn time(s: Option<&str>) -> Option<String> {
    let t: jiff::Timestamp = s?.parse().ok()?;
    (t.as_second() > 0).then(|| t.to_string())
}

fn label(labels: &HashMap<String, String>, k: &str) -> Option<String> {
    labels.get(k).filter(|v| !v.is_empty()).cloned()
}

/// The stable name of a container: `<app>.<dyno>` for a Dokku one with a dyno, else its name.
pub fn stable_name(app: Option<&str>, dyno: Option<&str>, docker_name: &str) -> String {
    match (app, dyno) {
        (Some(a), Some(d)) => format!("{a}.{d}"),
        _ => docker_name.to_string(),
    }
}

/// The 12 hex that name an image (`sha256:` dropped).
pub fn short_image_id(id: &str) -> Option<String> {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    (!hex.is_empty()).then(|| hex.chars().take(12).collect())
}

pub fn from_inspect(c: ContainerInspectResponse) -> Container {
    let config = c.config.unwrap_or_default();
    let labels = config.labels.unwrap_or_default();
    let docker_name = c.name.unwrap_or_default().trim_start_matches('/').to_string();
    let app = label(&labels, "com.dokku.app-name");
    let dyno = app.as_ref().and_then(|_| label(&labels, "com.dokku.dyno"));
    let process_type = app.as_ref().and_then(|_| label(&labels, "com.dokku.process-type"));
    let st = c.state.unwrap_or_default();
    let state = match st.status {
        Some(ContainerStateStatusEnum::RUNNING) | Some(ContainerStateStatusEnum::STOPPING) => "running",
        Some(ContainerStateStatusEnum::RESTARTING) => "restarting",
        Some(ContainerStateStatusEnum::EXITED) => "exited",
        Some(ContainerStateStatusEnum::PAUSED) => "paused",
        Some(ContainerStateStatusEnum::DEAD) => "dead",
        Some(ContainerStateStatusEnum::CREATED) => "created",
        Some(ContainerStateStatusEnum::REMOVING) => "removing",
        Some(ContainerStateStatusEnum::EMPTY) | None => "unknown",
    };
    let health = st.health.and_then(|h| h.status).and_then(|h| match h {
        HealthStatusEnum::HEALTHY => Some("healthy".to_string()),
        HealthStatusEnum::UNHEALTHY => Some("unhealthy".to_string()),
        HealthStatusEnum::STARTING => Some("starting".to_string()),
        HealthStatusEnum::NONE | HealthStatusEnum::EMPTY => None,
    });
    // The engine keeps the last run's exit code while it is down or waiting to restart.
    let exit_code = matches!(state, "exited" | "dead" | "restarting").then_some(st.exit_code.unwrap_or(0));
    Container {
        id: c.id.unwrap_or_default(),
        name: stable_name(app.as_deref(), dyno.as_deref(), &docker_name),
        docker_name,
        app,
        process_type,
        dyno,
        state: state.to_string(),
        health,
        restart_count: c.restart_count.unwrap_or(0).max(0) as u64,
        exit_code,
        oom_killed: st.oom_killed.unwrap_or(false),
        started_at: time(st.started_at.as_deref()),
        finished_at: time(st.finished_at.as_deref()),
        created_at: time(c.created.as_deref()),
        image: config.image.unwrap_or_default(),
        image_id: c.image.as_deref().and_then(short_image_id),
        cpu_percent: None,
        memory_bytes: None,
        memory_limit_bytes: c.host_config.and_then(|h| h.memory).filter(|m| *m > 0).map(|m| m as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dokku_labels_and_state_from_an_inspection() {
        let c: ContainerInspectResponse = serde_json::from_value(serde_json::json!({
            "Id": "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeef",
            "Created": "2026-12-02T06:59:58.123456789Z",
            "Name": "/shop.web.1.upcoming-4242",
            "Image": "sha256:abc123def4567890",
            "RestartCount": 3,
            "State": {"Status": "restarting", "Running": true, "Restarting": true, "OOMKilled": true,
                      "ExitCode": 137, "StartedAt": "2026-12-02T07:00:00Z", "FinishedAt": "0001-01-01T00:00:00Z",
                      "Health": {"Status": "unhealthy", "FailingStreak": 2}},
            "Config": {"Image": "dokku/shop:latest", "Labels": {
                "com.dokku.app-name": "shop", "com.dokku.process-type": "web", "com.dokku.dyno": "web.1",
                "com.dokku.container-type": "deploy"}},
            "HostConfig": {"Memory": 536870912}
        }))
        .unwrap();
        let c = from_inspect(c);
        assert_eq!(c.name, "shop.web.1");
        assert_eq!(c.docker_name, "shop.web.1.upcoming-4242");
        assert_eq!(
            (c.app.as_deref(), c.process_type.as_deref(), c.dyno.as_deref()),
            (Some("shop"), Some("web"), Some("web.1"))
        );
        assert_eq!((c.state.as_str(), c.health.as_deref()), ("restarting", Some("unhealthy")));
        assert_eq!((c.restart_count, c.exit_code, c.oom_killed), (3, Some(137), true));
        assert_eq!(c.started_at.as_deref(), Some("2026-12-02T07:00:00Z"));
        assert_eq!(c.finished_at, None);
        assert_eq!(c.created_at.as_deref(), Some("2026-12-02T06:59:58.123456789Z"));
        assert_eq!((c.image.as_str(), c.image_id.as_deref()), ("dokku/shop:latest", Some("abc123def456")));
        assert_eq!(c.memory_limit_bytes, Some(536870912));

        let other: ContainerInspectResponse = serde_json::from_value(serde_json::json!({
            "Id": "ff", "Name": "/blog-db-1", "State": {"Status": "running", "ExitCode": 0},
            "Config": {"Image": "postgres:16", "Labels": {"com.dokku.dyno": "web.1"}}, "HostConfig": {"Memory": 0}
        }))
        .unwrap();
        let c = from_inspect(other);
        assert_eq!((c.name.as_str(), c.app, c.dyno), ("blog-db-1", None, None));
        assert_eq!((c.state.as_str(), c.exit_code, c.health, c.memory_limit_bytes), ("running", None, None, None));
    }
}
