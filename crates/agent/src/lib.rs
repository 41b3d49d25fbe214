//! Bitácora's collector: it finds every container over the Docker socket, reads its logs from
//! the json-file by inode and byte offset (or the logs API for other drivers), labels them the
//! way Dokku users think of them, and ships them in batches to a sink: Loki's push API, or the
//! local store in `bitacora run`. Positions advance only when the sink acknowledged, so a
//! restart of the agent or an outage of the receiver loses nothing and sends nothing twice.
//!
//! It knows nothing of how logs are stored or queried (it borrows only LogQL's logfmt decoder,
//! so that its `logfmt` stage reads lines exactly as `| logfmt` does).
//!
//! Dependencies beyond the workspace's usual ones: `bollard` (the Docker API), `notify`
//! (inotify, for files created and removed within milliseconds), `libc` (the effective uid named
//! in the warning about unreadable json-files).

pub mod access;
pub mod config;
pub mod deploys;
pub mod docker;
pub mod early;
pub mod events;
pub mod jsonfile;
pub mod labels;
pub mod metrics;
pub mod multiline;
pub mod positions;
pub mod relabel;
pub mod replicate;
pub mod ship;
pub mod stages;
pub mod tailer;
pub mod wake;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

pub use config::AgentConfig;
pub use ship::{HttpSink, PushError, Sink};

use labels::{ContainerInfo, LabelMaker};
use metrics::AgentMetrics;
use positions::Positions;
use tailer::{Control, Reader};

struct Handle {
    info: watch::Sender<Arc<ContainerInfo>>,
    control: watch::Sender<Control>,
    task: tokio::task::AbortHandle,
}

/// At shutdown, what was read is pushed for at most this long (so the process exits within a
/// second); positions only cover acknowledged entries, so the rest is read again next time.
const DRAIN: Duration = Duration::from_millis(500);

pub struct Agent {
    cfg: AgentConfig,
    sink: Arc<dyn Sink>,
    metrics: Arc<AgentMetrics>,
    positions_path: PathBuf,
    maker: Arc<LabelMaker>,
    stages: Arc<Vec<stages::Stage>>,
    warned_unreadable: std::sync::atomic::AtomicBool,
    reload: (watch::Sender<NewConfig>, watch::Receiver<NewConfig>),
    /// When the agent was made (ns): on a first run, with no event recorded yet, container
    /// events are asked for from here, so a container created while the agent was still
    /// connecting to Docker has its `create` recorded too.
    made_ns: i64,
}

/// A configuration handed to a running agent (None: none yet).
type NewConfig = Option<Arc<AgentConfig>>;

/// Hands a running agent a new configuration (a reload): its container filters
/// (`include_containers`, `exclude_containers`) apply at once to running readers, and to new
/// containers from the next event or resync. Other agent settings need a restart.
#[derive(Clone)]
pub struct AgentReloader(watch::Sender<NewConfig>);

impl AgentReloader {
    /// Checks `cfg` and passes it on; a bad configuration is refused with its problems.
    pub fn reload(&self, cfg: AgentConfig) -> Result<(), String> {
        let problems = check_config(&cfg);
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        let _ = self.0.send(Some(Arc::new(cfg)));
        Ok(())
    }
}

/// An event stream's entry, acknowledged under the events' position key.
fn event_item(key: &Arc<str>, (labels, entry): (model::Labels, model::Entry)) -> ship::Item {
    ship::Item {
        container: key.clone(),
        container_name: key.clone(),
        labels: Arc::new(labels),
        position: positions::Position { inode: 0, offset: 0, ts: entry.ts },
        entry,
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

/// The `host` label when `agent.host` is unset: the Docker engine's name (`docker info`), which
/// is the host's name even when the agent runs in a container (whose /etc/hostname holds the
/// container's id); the hostname only if the engine does not say.
async fn engine_name(docker: &bollard::Docker) -> String {
    match docker.info().await {
        Ok(info) if info.name.as_deref().is_some_and(|n| !n.trim().is_empty()) => {
            info.name.unwrap_or_default().trim().to_string()
        }
        Ok(_) => {
            tracing::warn!("the Docker engine did not give its name; the host label is /etc/hostname (set agent.host)");
            hostname()
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot ask the Docker engine for its name; the host label is /etc/hostname (set agent.host)");
            hostname()
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Every problem of an agent configuration (bad regexes, stages, multiline rules), for
/// `bitacora check-config` and reloads; empty when it is usable.
pub fn check_config(cfg: &AgentConfig) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = LabelMaker::new(cfg, "check".into()) {
        problems.push(e);
    }
    if let Err(e) = jsonfile::Assembler::new(&cfg.multiline, cfg.max_line_bytes) {
        problems.push(e);
    }
    if let Err(e) = stages::compile(&cfg.pipeline_stages) {
        problems.push(e);
    }
    problems
}

impl Agent {
    /// Checks the configuration and registers the agent's metrics.
    pub fn new(
        cfg: AgentConfig,
        sink: Arc<dyn Sink>,
        registry: &mut prometheus_client::registry::Registry,
        positions_path: PathBuf,
    ) -> Result<Agent, String> {
        // The host label is settled once Docker answers (`run`); this checks the rules.
        let host = cfg.host.clone().unwrap_or_else(hostname);
        let maker = Arc::new(LabelMaker::new(&cfg, host)?);
        jsonfile::Assembler::new(&cfg.multiline, cfg.max_line_bytes)?;
        let stages = Arc::new(stages::compile(&cfg.pipeline_stages)?);
        Ok(Agent {
            metrics: Arc::new(AgentMetrics::new(registry)),
            cfg,
            sink,
            positions_path,
            maker,
            stages,
            warned_unreadable: Default::default(),
            reload: watch::channel(None),
            made_ns: now_ns(),
        })
    }

    /// A handle to reload this agent's filters while it runs.
    pub fn reloader(&self) -> AgentReloader {
        AgentReloader(self.reload.0.clone())
    }

    /// Runs until `shutdown` resolves. Without a reachable Docker socket it says so once, with
    /// the fix, and keeps trying in the background.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut said = false;
        let docker = loop {
            match docker::connect(&self.cfg.docker_host).await {
                Ok(d) => break d,
                Err(e) => {
                    if !said {
                        tracing::warn!("{e}; the agent will keep trying every 10 s");
                        said = true;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(10)) => {}
                        _ = &mut shutdown => return,
                    }
                }
            }
        };
        if let Some(root) = docker::root_dir(&docker).await {
            early::watch(&root);
        }
        if self.cfg.host.is_none() {
            let host = engine_name(&docker).await;
            self.maker = Arc::new(self.maker.with_host(host));
        }
        tracing::info!(docker = %self.cfg.docker_host, positions = %self.positions_path.display(), "agent connected to Docker");
        let mut positions = Positions::load(&self.positions_path);
        let (item_tx, item_rx) = mpsc::channel(self.cfg.buffer_entries.max(1));
        let (ack_tx, mut ack_rx) = mpsc::unbounded_channel();
        let (ev_tx, mut ev_rx) = mpsc::channel(1024);
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Arc<str>>();
        let (stop_tx, stop_rx) = watch::channel(None);
        let shipper = tokio::spawn(ship::run(
            self.cfg.clone(),
            self.sink.clone(),
            item_rx,
            ack_tx,
            self.metrics.clone(),
            stop_rx,
        ));
        let events_since = positions.containers.get(events::POSITION_KEY).map_or(self.made_ns, |p| p.ts);
        let discovery = tokio::spawn(docker::discover(docker.clone(), ev_tx, self.cfg.resync_interval.0, events_since));
        let mut recorder = events::Recorder::default();
        let mut deploys = deploys::Deploys::default();
        let events_key: Arc<str> = Arc::from(events::POSITION_KEY);
        let mut readers: HashMap<Arc<str>, Handle> = HashMap::new();
        let mut finished: Vec<Arc<str>> = Vec::new();
        let mut gc = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                ev = ev_rx.recv() => match ev {
                    Some(docker::Event::Upsert(mut info)) => {
                        info.first_name = Some(positions.names.get(&info.id).cloned().unwrap_or_else(|| info.name.clone()));
                        if self.maker.wanted(&info) && !positions.names.contains_key(&info.id) {
                            positions.names.insert(info.id.clone(), info.name.clone());
                        }
                        let deploy = self.maker.wanted(&info).then(|| deploys.observe(&self.maker, &info, now_ns())).flatten();
                        if let Some(d) = deploy
                            && item_tx.send(event_item(&events_key, d)).await.is_err()
                        {
                            break;
                        }
                        self.upsert(info, &docker, &mut readers, &positions, &item_tx, &done_tx)
                    }
                    Some(docker::Event::Died(id)) => {
                        if let Some(h) = readers.get(id.as_str()) { let _ = h.control.send(Control::Died); }
                    }
                    Some(docker::Event::Gone(id)) => {
                        deploys.gone(&id);
                        if let Some(h) = readers.get(id.as_str()) { let _ = h.control.send(Control::Gone); }
                    }
                    Some(docker::Event::Lifecycle(ev)) => {
                        let first = positions.names.get(&ev.id).map(String::as_str);
                        let mut lines: Vec<_> = recorder.entry(&self.maker, first, &ev).into_iter().collect();
                        if ev.action == "die" {
                            lines.extend(deploys.died(&self.maker, &ev.id, ev.ts));
                        }
                        let mut closed = false;
                        for l in lines {
                            closed |= item_tx.send(event_item(&events_key, l)).await.is_err();
                        }
                        if closed { break; }
                    }
                    None => break,
                },
                acks = ack_rx.recv() => {
                    let Some(acks) = acks else { break };
                    for (id, p) in acks {
                        positions.containers.insert(id.to_string(), p);
                    }
                    if let Err(e) = positions.save(&self.positions_path) {
                        tracing::error!(path = %self.positions_path.display(), error = %e, "cannot save positions");
                    }
                }
                done = done_rx.recv() => {
                    if let Some(id) = done {
                        readers.remove(&id);
                        finished.push(id);
                        self.metrics.containers.set(readers.len() as i64);
                    }
                }
                changed = self.reload.1.changed() => {
                    let new = if changed.is_ok() { self.reload.1.borrow_and_update().clone() } else { None };
                    if let Some(new) = new {
                        match LabelMaker::new(&new, self.maker.host().to_string()) {
                            Ok(m) => {
                                self.maker = Arc::new(m);
                                // Readers of containers the new filters leave out stop where they
                                // are; their positions stay, so letting them in again resumes.
                                let dropped: Vec<Arc<str>> = readers
                                    .iter()
                                    .filter(|(_, h)| !self.maker.wanted(&h.info.borrow()))
                                    .map(|(id, _)| id.clone())
                                    .collect();
                                for id in &dropped {
                                    if let Some(h) = readers.remove(id) {
                                        h.task.abort();
                                    }
                                }
                                self.metrics.containers.set(readers.len() as i64);
                                tracing::info!(stopped = dropped.len(), "agent filters reloaded");
                            }
                            Err(e) => tracing::error!(error = %e, "agent reload refused"),
                        }
                    }
                }
                _ = gc.tick() => {
                    // Positions of removed containers go once everything they sent was acknowledged.
                    if !finished.is_empty() && item_tx.capacity() == item_tx.max_capacity() {
                        let before = positions.containers.len();
                        for id in finished.drain(..) {
                            if !readers.contains_key(&id) {
                                positions.containers.remove(id.as_ref());
                                positions.names.remove(id.as_ref());
                            }
                        }
                        if positions.containers.len() != before {
                            let _ = positions.save(&self.positions_path);
                        }
                    }
                }
            }
        }
        // Stop reading (a reader holds nothing that is not re-read from its position), push what
        // was read until the deadline, and keep the positions the receiver acknowledged.
        let deadline = std::time::Instant::now() + DRAIN;
        discovery.abort();
        for h in readers.values() {
            h.task.abort();
        }
        drop(readers);
        drop(item_tx);
        let _ = stop_tx.send(Some(deadline));
        let shipped = tokio::time::timeout_at((deadline + Duration::from_millis(100)).into(), shipper).await;
        if shipped.is_err() {
            tracing::warn!("shutting down: the shipper did not stop in time");
        }
        while let Ok(acks) = ack_rx.try_recv() {
            for (id, p) in acks {
                positions.containers.insert(id.to_string(), p);
            }
        }
        if let Err(e) = positions.save(&self.positions_path) {
            tracing::error!(path = %self.positions_path.display(), error = %e, "cannot save positions");
        }
        tracing::info!("agent stopped");
    }

    /// Says once, with the fix, that json-files cannot be read; later containers at debug level.
    fn warn_unreadable(&self, path: &std::path::Path, e: &std::io::Error, container: &str) {
        let uid = access::uid();
        if self.warned_unreadable.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::debug!(path = %path.display(), uid, error = %e, container, "cannot read the json-file; reading through the Docker logs API");
            return;
        }
        let dir = path.parent().and_then(|p| p.parent()).unwrap_or(path);
        tracing::warn!(
            container,
            "cannot read {} as uid {uid} ({e}): this and any other such container is read through the Docker logs API \
             instead (slower; resumes by timestamp). To read json-files directly, run the agent as root, or mount {} \
             readable for uid {uid}",
            path.display(),
            dir.display(),
        );
    }

    fn upsert(
        &self,
        info: ContainerInfo,
        docker: &bollard::Docker,
        readers: &mut HashMap<Arc<str>, Handle>,
        positions: &Positions,
        tx: &mpsc::Sender<ship::Item>,
        done: &mpsc::UnboundedSender<Arc<str>>,
    ) {
        if !self.maker.wanted(&info) {
            return;
        }
        if let Some(h) = readers.get(info.id.as_str()) {
            let running = info.running;
            if **h.info.borrow() != info {
                let _ = h.info.send(Arc::new(info));
            }
            // Every sign of life (start, restart, resync) wakes a reader that sleeps on a stopped
            // container, even when the container crashed again before it was inspected: it
            // looks at the file once more. `send` wakes it even with an unchanged value.
            let now = *h.control.borrow();
            let _ = h.control.send(if running && now != Control::Gone { Control::Running } else { now });
            return;
        }
        let id: Arc<str> = Arc::from(info.id.as_str());
        let start = positions.containers.get(info.id.as_str()).copied();
        let file = if info.log_driver == "json-file" { info.log_path.clone() } else { None };
        let readable = match &file {
            None => false,
            Some(p) => match access::check(p) {
                Ok(()) => true,
                Err(e) => {
                    self.warn_unreadable(p, &e, &info.name);
                    false
                }
            },
        };
        let control = if info.exited { Control::Died } else { Control::Running };
        let (info_tx, info_rx) = watch::channel(Arc::new(info));
        let (ctl_tx, ctl_rx) = watch::channel(control);
        let reader = Reader::new(
            id.clone(),
            info_rx,
            ctl_rx,
            self.maker.clone(),
            tx.clone(),
            self.metrics.clone(),
            self.cfg.clone(),
        )
        .with_stages(self.stages.clone());
        let done = done.clone();
        let rid = id.clone();
        let task = if let (Some(path), true) = (file, readable) {
            tokio::spawn(async move {
                reader.json_file(path, start).await;
                let _ = done.send(rid);
            })
        } else {
            let d = docker.clone();
            tokio::spawn(async move {
                reader.api(d, start).await;
                let _ = done.send(rid);
            })
        };
        readers.insert(id, Handle { info: info_tx, control: ctl_tx, task: task.abort_handle() });
        self.metrics.containers.set(readers.len() as i64);
    }
}
