//! Reading one container's logs: its json-file by inode and byte offset (following both
//! rotation styles and reading deleted files to their end), or the Docker logs API for other
//! log drivers. Entries go to the shipper with the position to resume at once acknowledged.

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use model::{Entry, Labels};
use tokio::sync::{mpsc, watch};

use crate::config::AgentConfig;
use crate::jsonfile::{Assembled, Assembler, parse_line};
use crate::labels::{ContainerInfo, LabelMaker};
use crate::metrics::{AgentMetrics, ContainerLabel};
use crate::positions::Position;
use crate::ship::Item;

/// What the supervisor tells a reader about its container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    Running,
    /// The container exited: flush pending partial lines once the file is drained.
    Died,
    /// The container was removed: drain what can still be read, then stop.
    Gone,
}

pub struct Reader {
    pub id: Arc<str>,
    pub info: watch::Receiver<Arc<ContainerInfo>>,
    pub control: watch::Receiver<Control>,
    pub maker: Arc<LabelMaker>,
    pub tx: mpsc::Sender<Item>,
    pub metrics: Arc<AgentMetrics>,
    pub cfg: AgentConfig,
    labels: Option<(Arc<ContainerInfo>, Arc<Labels>, Arc<Labels>)>,
    stages: Arc<Vec<crate::stages::Stage>>,
    /// Each entry's structured metadata: `container_id` (`agent.container_id_metadata`), or none;
    /// one set shared by every entry.
    metadata: model::Metadata,
}

/// How long a stopped container's file is still watched for Docker's trailing writes.
const EXITED_GRACE: Duration = Duration::from_secs(2);

struct Open {
    file: File,
    inode: u64,
    /// File offset of the first byte of `buf`.
    pos: u64,
    buf: Vec<u8>,
}

fn open(path: &Path) -> Option<Open> {
    let file = File::open(path).ok()?;
    let inode = file.metadata().ok()?.ino();
    Some(Open { file, inode, pos: 0, buf: Vec::new() })
}

fn inode_of(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.ino())
}

impl Reader {
    pub fn new(
        id: Arc<str>,
        info: watch::Receiver<Arc<ContainerInfo>>,
        control: watch::Receiver<Control>,
        maker: Arc<LabelMaker>,
        tx: mpsc::Sender<Item>,
        metrics: Arc<AgentMetrics>,
        cfg: AgentConfig,
    ) -> Reader {
        let metadata = match cfg.container_id_metadata {
            true => model::Metadata::new(vec![("container_id".to_string(), id.chars().take(12).collect())]),
            false => model::Metadata::default(),
        };
        Reader { id, info, control, maker, tx, metrics, cfg, labels: None, stages: Arc::new(Vec::new()), metadata }
    }

    pub fn with_stages(mut self, stages: Arc<Vec<crate::stages::Stage>>) -> Reader {
        self.stages = stages;
        self
    }

    fn name(&self) -> Arc<str> {
        Arc::from(self.info.borrow().name.as_str())
    }

    /// The current label sets (stdout, stderr), recomputed after a rename.
    fn labels(&mut self, stderr: bool) -> Option<Arc<Labels>> {
        let info = self.info.borrow().clone();
        if self.labels.as_ref().is_none_or(|(i, _, _)| !Arc::ptr_eq(i, &info)) {
            let out = self.maker.labels(&info, "stdout")?;
            let err = self.maker.labels(&info, "stderr")?;
            self.labels = Some((info, Arc::new(out), Arc::new(err)));
        }
        let (_, out, err) = self.labels.as_ref()?;
        Some(if stderr { err.clone() } else { out.clone() })
    }

    /// Sends entries on; each carries where to resume once acknowledged: the file offset, and
    /// its timestamp (the logs API resumes by time, also after a json-file became unreadable).
    async fn emit(&mut self, done: Vec<Assembled>, inode: u64, resume: impl Fn(u64) -> u64) -> bool {
        let name = self.name();
        for a in done {
            let Some(labels) = self.labels(a.stderr) else { continue };
            let position = Position { inode, offset: resume(a.end), ts: a.ts };
            let entry = Entry { ts: a.ts, line: a.line, metadata: self.metadata.clone() };
            let (labels, entry) = if self.stages.is_empty() {
                (labels, entry)
            } else {
                let Some((l, e)) = crate::stages::apply(&self.stages, &labels, entry) else { continue };
                (Arc::new(l), e)
            };
            let item = Item { container: self.id.clone(), container_name: name.clone(), labels, entry, position };
            if self.tx.send(item).await.is_err() {
                return false;
            }
        }
        true
    }

    /// Tails a json-file. `start` is the acknowledged position from a previous run.
    pub async fn json_file(mut self, path: PathBuf, start: Option<Position>) {
        let label = ContainerLabel { container: self.name().to_string() };
        let mut asm = match Assembler::new(&self.cfg.multiline, self.cfg.max_line_bytes) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "bad multiline configuration");
                return;
            }
        };
        let mut queue: VecDeque<Open> = VecDeque::new();
        // Resume where the acknowledged entries ended, in this file or the one rotated before it.
        if let Some(p) = start.filter(|p| p.inode != 0) {
            let rotated = PathBuf::from(format!("{}.1", path.display()));
            if inode_of(&path) == Some(p.inode) {
                if let Some(mut o) = open(&path) {
                    o.pos = p.offset;
                    queue.push_back(o);
                }
            } else if inode_of(&rotated) == Some(p.inode) {
                if let Some(mut o) = open(&rotated) {
                    o.pos = p.offset;
                    queue.push_back(o);
                }
            } else {
                self.metrics.files_lost.get_or_create(&label).inc();
                tracing::warn!(container = %self.id, path = %path.display(), "the log file read last time rotated away while the agent was not running; its unread lines are lost");
            }
        }
        // A new container's file may have been opened the moment Docker created it (a `--rm`
        // one-off can be gone already): start from that descriptor.
        if start.is_none()
            && queue.is_empty()
            && let Some(f) = crate::early::take(&self.id)
            && let Ok(m) = f.metadata()
        {
            queue.push_back(Open { file: f, inode: m.ino(), pos: 0, buf: Vec::new() });
        }
        let wakeup = crate::wake::Wakeup::register(&self.id, crate::wake::On::Write);
        // Rotation is watched apart from reading, so that a reader slowed by backpressure still
        // opens every new file before Docker deletes it; open descriptors keep deleted files.
        let (files_tx, mut files_rx) = mpsc::unbounded_channel::<Open>();
        let files_tx_early = files_tx.clone();
        let watch_path = path.clone();
        let mut watch_ctl = self.control.clone();
        let first = queue.back().map(|o| o.inode);
        let poll = self.cfg.poll_interval.0;
        // With inotify, a rotation's new file is announced; without, the path is checked often.
        let rotated = crate::wake::Wakeup::register(&self.id, crate::wake::On::Create);
        let watcher = tokio::spawn(async move {
            let mut last = first;
            let started = Instant::now();
            let mut quiet_since: Option<Instant> = None;
            loop {
                // The state is read before the path is checked: a `die` seen here came after
                // every rotation this check can miss.
                let control = *watch_ctl.borrow_and_update();
                if let Some(ino) = inode_of(&watch_path)
                    && last != Some(ino)
                    && let Some(o) = open(&watch_path)
                {
                    last = Some(o.inode);
                    if files_tx.send(o).is_err() {
                        return;
                    }
                }
                if control == Control::Running {
                    quiet_since = None;
                } else if quiet_since.get_or_insert_with(Instant::now).elapsed() >= EXITED_GRACE {
                    // Nothing writes to (or rotates) the file of a container that is not running.
                    if watch_ctl.changed().await.is_err() {
                        return;
                    }
                    quiet_since = None;
                    continue;
                }
                // Fast while a new container's file is due (inotify catches most of them), then
                // at most as often as the reader polls.
                let pause = if last.is_none() && started.elapsed() < Duration::from_secs(10) {
                    Duration::from_millis(2)
                } else if last.is_none() || crate::early::watching() {
                    poll
                } else {
                    Duration::from_millis(20).min(poll)
                };
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = rotated.written() => {}
                    r = watch_ctl.changed() => if r.is_err() { return },
                }
            }
        });
        let _stop_watcher = AbortOnDrop(watcher);
        // A container that exits at once and is removed (`--rm`) leaves its file for a few
        // milliseconds: inotify opens it from notify's own thread the moment it appears.
        let _inotify = if queue.is_empty() { watch_creation(&path, files_tx_early.clone()) } else { None };
        let fast = Duration::from_millis(5);
        let mut waited = Duration::ZERO;
        let mut quiet_since: Option<Instant> = None;
        let mut out: Vec<Assembled> = Vec::new();
        let mut chunk = vec![0u8; 256 * 1024];
        loop {
            let mut progressed = false;
            loop {
                // New files at the path (first open, or rotation) queue behind the current one.
                while let Ok(o) = files_rx.try_recv() {
                    if queue.back().is_none_or(|b| b.inode != o.inode) {
                        queue.push_back(o);
                    }
                }
                let Some(front) = queue.front_mut() else { break };
                let n = front.file.read_at(&mut chunk, front.pos + front.buf.len() as u64).unwrap_or(0);
                if n == 0 {
                    if queue.len() > 1 {
                        queue.pop_front();
                        continue;
                    }
                    break;
                }
                progressed = true;
                front.buf.extend_from_slice(&chunk[..n]);
                let (inode, base) = (front.inode, front.pos);
                let mut consumed = 0usize;
                let mut lines = 0u64;
                while let Some(nl) = memchr_nl(&front.buf[consumed..]) {
                    let line = &front.buf[consumed..consumed + nl];
                    let start = base + consumed as u64;
                    let end = start + nl as u64 + 1;
                    match parse_line(line) {
                        Ok(l) => {
                            tracing::trace!(container = %self.id, start, len = l.log.len(), complete = l.log.ends_with('\n'), "json-file line");
                            asm.push(l, start, end, &mut out)
                        }
                        Err(e) => {
                            tracing::warn!(container = %self.id, offset = start, error = %e, "skipped an undecodable json-file line")
                        }
                    }
                    consumed += nl + 1;
                    lines += 1;
                }
                front.buf.drain(..consumed);
                front.pos += consumed as u64;
                self.metrics.lines_read.get_or_create(&label).inc_by(lines);
                self.metrics.bytes_read.get_or_create(&label).inc_by(consumed as u64);
                // The lag as it stands before a send that may wait on a slow receiver, so the
                // gauge shows a reader held back while it is held back.
                let size = front.file.metadata().map(|m| m.len()).unwrap_or(0);
                self.metrics.lag_bytes.get_or_create(&label).set(size.saturating_sub(front.pos) as i64);
                let pending = asm.pending_start();
                let done = std::mem::take(&mut out);
                if !self.emit(done, inode, |end| pending.map_or(end, |p| p.min(end))).await {
                    return;
                }
            }
            let control = *self.control.borrow_and_update();
            let drained = !progressed && queue.len() <= 1;
            asm.flush(drained && control != Control::Running, &mut out);
            if !out.is_empty() {
                let inode = queue.front().map_or(0, |o| o.inode);
                let front_pos = queue.front().map_or(0, |o| o.pos);
                let pending = asm.pending_start();
                let done = std::mem::take(&mut out);
                if !self.emit(done, inode, |end| pending.map_or(end.max(front_pos), |p| p.min(end))).await {
                    return;
                }
            }
            if let Some(o) = queue.back() {
                let size = o.file.metadata().map(|m| m.len()).unwrap_or(0);
                self.metrics.lag_bytes.get_or_create(&label).set(size.saturating_sub(o.pos) as i64);
            }
            if drained
                && control == Control::Gone
                && (queue.is_empty() || inode_of(&path).is_none() || waited > Duration::from_secs(2))
            {
                return;
            }
            if progressed {
                quiet_since = None;
                continue;
            }
            // A container that is not running writes nothing more: once its file stayed drained
            // for a grace period (Docker's last writes may trail its `die` event), the reader
            // sleeps until the container restarts or is removed, instead of polling EOF.
            if control == Control::Died && drained {
                let quiet = *quiet_since.get_or_insert_with(Instant::now);
                if quiet.elapsed() >= EXITED_GRACE {
                    tracing::debug!(container = %self.id, "container not running and its log drained; waiting for Docker");
                    if self.control.changed().await.is_err() {
                        return;
                    }
                    quiet_since = None;
                    continue;
                }
            } else {
                quiet_since = None;
            }
            // Poll fast until the file exists (short-lived containers), then at the normal pace.
            let mut pause =
                if queue.is_empty() && waited < Duration::from_secs(10) { fast } else { self.cfg.poll_interval.0 };
            // An entry waiting for a continuation is sent as soon as it is due, not at the
            // next poll.
            if let Some(due) = asm.next_due() {
                pause = pause.min(due.saturating_duration_since(Instant::now()) + Duration::from_millis(1));
            }
            waited += pause;
            // `changed` on `self.control` itself marks the value seen (a fresh clone of the
            // receiver would report the same change again at once, for ever: a busy loop).
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = wakeup.written() => {}
                r = self.control.changed() => if r.is_err() { return },
            }
        }
    }

    /// Follows the Docker logs API (log drivers other than json-file, or unreadable files).
    pub async fn api(mut self, docker: bollard::Docker, start: Option<Position>) {
        let label = ContainerLabel { container: self.name().to_string() };
        let mut last_ts = start.map_or(i64::MIN, |p| p.ts);
        let mut asm = Assembler::new(&self.cfg.multiline, self.cfg.max_line_bytes).expect("multiline config");
        loop {
            let since = if last_ts == i64::MIN { 0 } else { (last_ts / 1_000_000_000) as i32 };
            let opts = bollard::query_parameters::LogsOptionsBuilder::default()
                .follow(true)
                .stdout(true)
                .stderr(true)
                .timestamps(true)
                .since(since)
                .build();
            let mut stream = docker.logs(&self.id, Some(opts));
            let mut out = Vec::new();
            loop {
                let next = tokio::select! {
                    n = stream.next() => n,
                    _ = tokio::time::sleep(self.cfg.multiline.max_wait.0) => {
                        asm.flush(false, &mut out);
                        let done = std::mem::take(&mut out);
                        if !self.emit(done, 0, |e| e).await { return; }
                        continue;
                    }
                };
                let Some(Ok(msg)) = next else { break };
                let (stderr, bytes) = match msg {
                    bollard::container::LogOutput::StdErr { message } => (true, message),
                    bollard::container::LogOutput::StdOut { message }
                    | bollard::container::LogOutput::Console { message } => (false, message),
                    bollard::container::LogOutput::StdIn { .. } => continue,
                };
                let text = String::from_utf8_lossy(&bytes);
                // Each frame is one message, "<time> <text>", whose text lacks the newline when
                // Docker split a long line; a raw TTY stream may carry several lines per frame.
                let pieces: Vec<&str> = if text.trim_end_matches('\n').contains('\n') {
                    text.split_inclusive('\n').collect()
                } else {
                    vec![&text]
                };
                for piece in pieces {
                    let Some((ts, rest)) = piece.split_once(' ') else { continue };
                    let Some(ts) = crate::jsonfile::parse_time(ts) else { continue };
                    if ts <= last_ts {
                        continue; // already shipped before a restart (since= is whole seconds)
                    }
                    self.metrics.lines_read.get_or_create(&label).inc();
                    self.metrics.bytes_read.get_or_create(&label).inc_by(rest.len() as u64);
                    let line = crate::jsonfile::Line { log: rest.into(), stderr, ts };
                    asm.push(line, 0, 0, &mut out);
                    last_ts = ts;
                }
                let done = std::mem::take(&mut out);
                if !self.emit(done, 0, |e| e).await {
                    return;
                }
            }
            asm.flush(true, &mut out);
            let done = std::mem::take(&mut out);
            if !self.emit(done, 0, |e| e).await {
                return;
            }
            // The stream ended: the container stopped. Wait for a restart, or for removal.
            let mut ctl = self.control.clone();
            loop {
                if *ctl.borrow() == Control::Gone {
                    return;
                }
                if *ctl.borrow() == Control::Running {
                    break;
                }
                if ctl.changed().await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn memchr_nl(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Opens `path` as soon as it is created in its (existing) directory, sending it to `tx`.
fn watch_creation(path: &Path, tx: mpsc::UnboundedSender<Open>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let dir = path.parent()?.to_path_buf();
    let target = path.to_path_buf();
    let sent = std::sync::atomic::AtomicBool::new(false);
    let mut w = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if let Ok(ev) = ev
            && ev.paths.contains(&target)
            && !sent.load(std::sync::atomic::Ordering::Relaxed)
            && let Some(o) = open(&target)
        {
            sent.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = tx.send(o);
        }
    })
    .ok()?;
    w.watch(&dir, notify::RecursiveMode::NonRecursive).ok()?;
    // It may have appeared before the watch was in place.
    Some(w)
}
