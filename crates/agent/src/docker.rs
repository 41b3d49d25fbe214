//! Discovery over the Docker socket: a full list at start and every `resync_interval`, and the
//! event stream between, reporting containers by ID (never by name).

use std::collections::HashMap;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::{EventsOptionsBuilder, ListContainersOptionsBuilder};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::labels::ContainerInfo;

#[derive(Debug)]
pub enum Event {
    /// A container exists (new, started, restarted or renamed): its current facts.
    Upsert(ContainerInfo),
    /// It exited.
    Died(String),
    /// It was removed.
    Gone(String),
    /// A lifecycle event worth a log line (see `events`).
    Lifecycle(crate::events::ContainerEvent),
}

/// Connects to the Docker socket and negotiates the API version.
pub async fn connect(host: &str) -> Result<Docker, String> {
    let path = host.trim_start_matches("unix://");
    if !std::path::Path::new(path).exists() {
        return Err(format!(
            "the Docker socket {path} does not exist: start Docker, or set agent.docker_host / --docker-host (in a container, mount /var/run/docker.sock)"
        ));
    }
    let d = Docker::connect_with_socket(path, 120, bollard::API_DEFAULT_VERSION).map_err(|e| e.to_string())?;
    let d = d.negotiate_version().await.map_err(|e| {
        let s = e.to_string();
        if s.contains("ermission denied") {
            format!("cannot read the Docker socket {path}: permission denied. Run as root or add this user to the docker group")
        } else {
            format!("cannot talk to Docker at {path}: {s}")
        }
    })?;
    Ok(d)
}

/// Docker's data root (`DockerRootDir`), where json-files live.
pub async fn root_dir(d: &Docker) -> Option<PathBuf> {
    d.info().await.ok()?.docker_root_dir.map(PathBuf::from)
}

pub async fn inspect(d: &Docker, root: Option<&std::path::Path>, id: &str) -> Option<ContainerInfo> {
    let c = d.inspect_container(id, None).await.ok()?;
    let config = c.config.unwrap_or_default();
    let cid = c.id.clone().unwrap_or_else(|| id.to_string());
    // A created container has no LogPath until it starts; its json-file path is known anyway,
    // so short-lived containers can be read from their first line.
    let log_path = c.log_path.clone().filter(|p| !p.is_empty()).map(PathBuf::from).or_else(|| {
        let driver = c.host_config.as_ref().and_then(|h| h.log_config.as_ref()).and_then(|l| l.typ.as_deref());
        (driver == Some("json-file"))
            .then(|| root.map(|r| r.join("containers").join(&cid).join(format!("{cid}-json.log"))))
            .flatten()
    });
    let created_ns = c
        .created
        .as_deref()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_nanosecond() as i64)
        .unwrap_or(0);
    Some(ContainerInfo {
        id: c.id.unwrap_or_else(|| id.to_string()),
        name: c.name.unwrap_or_default().trim_start_matches('/').to_string(),
        first_name: None,
        image: config.image.clone().unwrap_or_default(),
        image_id: c.image.clone().unwrap_or_default(),
        created_ns,
        labels: config.labels.unwrap_or_default(),
        log_path,
        log_driver: c.host_config.and_then(|h| h.log_config).and_then(|l| l.typ).unwrap_or_default(),
        tty: config.tty.unwrap_or(false),
        running: c.state.as_ref().and_then(|s| s.running).unwrap_or(false),
        exited: c.state.and_then(|s| s.status).is_some_and(|st| {
            matches!(
                st,
                bollard::models::ContainerStateStatusEnum::EXITED | bollard::models::ContainerStateStatusEnum::DEAD
            )
        }),
    })
}

/// A container that is gone before it could be inspected, from its event's attributes (its
/// labels, `name`, `image`): a json-file container that has exited.
fn from_event(id: &str, mut attrs: HashMap<String, String>, root: Option<&std::path::Path>) -> Option<ContainerInfo> {
    let name = attrs.remove("name").unwrap_or_default();
    let image = attrs.remove("image").unwrap_or_default();
    for k in ["exitCode", "signal", "execDuration", "oldName"] {
        attrs.remove(k);
    }
    Some(ContainerInfo {
        id: id.to_string(),
        name,
        image,
        labels: attrs,
        log_path: Some(root?.join("containers").join(id).join(format!("{id}-json.log"))),
        log_driver: "json-file".into(),
        exited: true,
        ..Default::default()
    })
}

async fn list(d: &Docker) -> Result<Vec<String>, String> {
    let opts = ListContainersOptionsBuilder::default().all(true).build();
    let l = d.list_containers(Some(opts)).await.map_err(|e| e.to_string())?;
    Ok(l.into_iter().filter_map(|c| c.id).collect())
}

/// Runs discovery until the receiver goes away, reconnecting after errors. `since` (ns): the
/// newest event already recorded (or, on a first run, when the agent started), so the events
/// after it are asked for (the engine keeps its recent ones); after a reconnection, the last
/// one seen.
pub async fn discover(d: Docker, tx: mpsc::Sender<Event>, resync: Duration, mut since: i64) {
    let mut known: HashSet<String> = HashSet::new();
    let root = root_dir(&d).await;
    loop {
        // Nothing between the listing and the subscription may be missed. The event stream is
        // lazy (its request goes out when first polled, after the listing), so it asks for the
        // events since a moment before the listing: a container created in between is both
        // listed and announced, and an upsert is idempotent.
        let mut filters = HashMap::new();
        filters.insert("type".to_string(), vec!["container".to_string()]);
        let from_ns = since;
        let from = format!("{}.{:09}", from_ns.div_euclid(1_000_000_000), from_ns.rem_euclid(1_000_000_000));
        let opts = EventsOptionsBuilder::default().filters(&filters).since(&from);
        let mut events = d.events(Some(opts.build()));
        if resync_all(&d, root.as_deref(), &tx, &mut known).await.is_err() {
            return;
        }
        let mut tick = tokio::time::interval(resync);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if resync_all(&d, root.as_deref(), &tx, &mut known).await.is_err() { return; }
                }
                ev = events.next() => {
                    let Some(Ok(ev)) = ev else {
                        tracing::warn!("Docker event stream ended; reconnecting");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        break;
                    };
                    let actor = ev.actor.unwrap_or_default();
                    let Some(id) = actor.id.clone() else { continue };
                    let action = ev.action.clone().unwrap_or_default();
                    if crate::events::ContainerEvent::recorded(&action) {
                        let ts = ev.time_nano.unwrap_or_else(|| ev.time.unwrap_or(0) * 1_000_000_000);
                        since = since.max(ts);
                        let e = crate::events::ContainerEvent {
                            id: id.clone(),
                            action: action.clone(),
                            attributes: actor.attributes.clone().unwrap_or_default(),
                            ts,
                        };
                        if tx.send(Event::Lifecycle(e)).await.is_err() {
                            return;
                        }
                    }
                    let sent = match action.as_str() {
                        "create" | "start" | "restart" | "rename" | "unpause" => {
                            let info = match inspect(&d, root.as_deref(), &id).await {
                                Some(info) => Some(info),
                                // Gone already (a `--rm` one-off): what the event says is enough
                                // when its json-file was opened the moment it was created.
                                None if crate::early::has(&id) => {
                                    from_event(&id, actor.attributes.unwrap_or_default(), root.as_deref())
                                }
                                None => None,
                            };
                            match info {
                                Some(info) => {
                                    known.insert(id.clone());
                                    tx.send(Event::Upsert(info)).await
                                }
                                None => Ok(()),
                            }
                        }
                        "die" => tx.send(Event::Died(id)).await,
                        "destroy" => {
                            known.remove(&id);
                            tx.send(Event::Gone(id)).await
                        }
                        _ => Ok(()),
                    };
                    if sent.is_err() { return; }
                }
            }
        }
    }
}

async fn resync_all(
    d: &Docker,
    root: Option<&std::path::Path>,
    tx: &mpsc::Sender<Event>,
    known: &mut HashSet<String>,
) -> Result<(), ()> {
    let ids = match list(d).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "listing containers failed");
            return Ok(());
        }
    };
    let now: HashSet<String> = ids.iter().cloned().collect();
    for gone in known.difference(&now).cloned().collect::<Vec<_>>() {
        known.remove(&gone);
        tx.send(Event::Gone(gone)).await.map_err(|_| ())?;
    }
    for id in ids {
        if let Some(info) = inspect(d, root, &id).await {
            known.insert(id);
            tx.send(Event::Upsert(info)).await.map_err(|_| ())?;
        }
    }
    Ok(())
}
