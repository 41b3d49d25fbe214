//! Json-files opened the moment Docker creates them.
//!
//! A `docker run --rm` one-off (a `dokku run`) can be created, run and removed before the chain
//! event → inspect → reader has its file open, and with the container goes its log. One inotify
//! watch on `<docker root>/containers` (recursive: a new container's folder is watched as it
//! appears) opens every `<id>-json.log` on notify's own thread as soon as it exists and keeps the
//! descriptor for the container's reader, which takes it when it starts: an open descriptor
//! keeps a deleted file readable to its end. The same watch wakes readers at every write (see
//! [`crate::wake`]).

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Descriptors not taken by a reader within this long are closed (containers the filters leave
/// out, say).
const KEEP: Duration = Duration::from_secs(120);
const MAX_KEPT: usize = 1024;

static OPENED: OnceLock<Mutex<HashMap<String, (Instant, File)>>> = OnceLock::new();
static WATCHER: OnceLock<Option<notify::RecommendedWatcher>> = OnceLock::new();

fn opened() -> &'static Mutex<HashMap<String, (Instant, File)>> {
    OPENED.get_or_init(Default::default)
}

/// Starts watching `<root>/containers` (once per process). Without permission to read it, the
/// agent does without: readers open files themselves, as before.
pub fn watch(root: &Path) {
    tracing::debug!(root = %root.display(), "early opening of json-files");
    WATCHER.get_or_init(|| {
        use notify::Watcher;
        let dir = root.join("containers");
        let mut w = notify::recommended_watcher(|ev: notify::Result<notify::Event>| {
            let Ok(ev) = ev else { return };
            if matches!(ev.kind, notify::EventKind::Modify(_)) {
                for p in &ev.paths {
                    if let Some(id) = p.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix("-json.log")) {
                        crate::wake::written(id);
                    }
                }
                return;
            }
            if !matches!(ev.kind, notify::EventKind::Create(_)) {
                return;
            }
            for p in &ev.paths {
                let Some(name) = p.file_name().and_then(|n| n.to_str()) else { continue };
                let Some(id) = name.strip_suffix("-json.log") else { continue };
                // A rotation's new file: its container's watch opens it now.
                crate::wake::created(id);
                if let Ok(f) = File::open(p) {
                    tracing::debug!(container = id, "json-file opened at creation");
                    let mut m = opened().lock().unwrap_or_else(|e| e.into_inner());
                    m.retain(|_, (at, _)| at.elapsed() < KEEP);
                    if m.len() < MAX_KEPT {
                        m.insert(id.to_string(), (Instant::now(), f));
                    }
                }
            }
        })
        .map_err(|e| tracing::debug!(error = %e, "no early opening of json-files"))
        .ok()?;
        match w.watch(&dir, notify::RecursiveMode::Recursive) {
            Ok(()) => {
                tracing::debug!(dir = %dir.display(), "json-files are opened at creation");
                Some(w)
            }
            Err(e) => {
                tracing::debug!(dir = %dir.display(), error = %e, "no early opening of json-files");
                None
            }
        }
    });
}

/// Whether the inotify watch runs (new and rotated files are announced by [`crate::wake`]).
pub fn watching() -> bool {
    WATCHER.get().is_some_and(Option::is_some)
}

/// The descriptor opened for container `id`'s json-file, if any.
pub fn take(id: &str) -> Option<File> {
    let mut m = opened().lock().unwrap_or_else(|e| e.into_inner());
    m.remove(id).map(|(_, f)| f)
}

/// Whether a descriptor waits for container `id`.
pub fn has(id: &str) -> bool {
    opened().lock().unwrap_or_else(|e| e.into_inner()).contains_key(id)
}
