//! Bitácora's own log: to stderr (colours only on a terminal), into its own store as
//! `{app="bitacora"}` (so it is searched like any app's), and the last warnings and errors kept
//! for the status page.
//!
//! Events are formatted as logfmt lines (`level=warn msg="..." key=value`) by a `tracing` layer
//! and handed to a bounded queue (dropped, and counted, when full: logging never blocks); a
//! thread pushes them to the store once a second. Events raised while that thread pushes are
//! not fed back to it.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::Context;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const QUEUE: usize = 10_000;
const LAST_PROBLEMS: usize = 50;

thread_local! {
    static PUSHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A warning or error, as the status page lists them.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Problem {
    /// Unix nanoseconds.
    pub ts: i64,
    pub level: &'static str,
    pub line: String,
}

/// The shared end of the log: where lines wait for the store, and the last problems.
#[derive(Default)]
pub struct SelfLog {
    queue: Mutex<Vec<(i64, String, &'static str)>>,
    last: Mutex<VecDeque<Problem>>,
    dropped: std::sync::atomic::AtomicU64,
}

static SELF_LOG: OnceLock<Arc<SelfLog>> = OnceLock::new();

impl SelfLog {
    /// The last warnings and errors, newest first.
    pub fn problems(&self) -> Vec<Problem> {
        self.last.lock().map(|l| l.iter().rev().cloned().collect()).unwrap_or_default()
    }

    /// Starts pushing queued lines into `store` under `tenant`, once a second.
    pub fn ship_to(self: &Arc<Self>, store: Arc<store::Store>, tenant: String) {
        let me = self.clone();
        let _ = std::thread::Builder::new().name("self-log".into()).spawn(move || {
            PUSHING.with(|p| p.set(true));
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let batch = std::mem::take(&mut *me.queue.lock().unwrap());
                if batch.is_empty() {
                    if Arc::strong_count(&store) == 1 {
                        return; // the server is gone
                    }
                    continue;
                }
                let mut by_level: std::collections::BTreeMap<&str, Vec<model::Entry>> = Default::default();
                for (ts, line, level) in batch {
                    by_level.entry(level).or_default().push(model::Entry::new(ts, line));
                }
                let streams = by_level
                    .into_iter()
                    .filter_map(|(level, entries)| {
                        let labels = model::Labels::from_pairs([("app", "bitacora"), ("level", level)]).ok()?;
                        Some(store::PushStream { labels, entries })
                    })
                    .collect();
                // Refusals (a full disk, say) are in stderr already; these lines go.
                let _ = store.push(&tenant, streams);
            }
        });
    }
}

/// The process' self log, once `init` ran.
pub fn self_log() -> Option<Arc<SelfLog>> {
    SELF_LOG.get().cloned()
}

/// The running level and the handle that changes it (`/log_level`).
struct Level {
    handle: tracing_subscriber::reload::Handle<tracing_subscriber::EnvFilter, tracing_subscriber::Registry>,
    current: Mutex<String>,
}

static LEVEL: OnceLock<Level> = OnceLock::new();

/// The level the log runs at (the filter it was started with, or the last one set).
pub fn level() -> String {
    LEVEL.get().map(|l| l.current.lock().unwrap().clone()).unwrap_or_default()
}

/// Changes the level at run time; the text names the problem when `level` is not one.
pub fn set_level(level: &str) -> Result<(), String> {
    let level = level.trim().to_ascii_lowercase();
    if !["trace", "debug", "info", "warn", "error"].contains(&level.as_str()) {
        return Err(format!("unrecognized log level {level:?}: use debug, info, warn or error"));
    }
    let l = LEVEL.get().ok_or("logging is not set up")?;
    let filter = tracing_subscriber::EnvFilter::try_new(&level).map_err(|e| e.to_string())?;
    l.handle.reload(filter).map_err(|e| e.to_string())?;
    *l.current.lock().unwrap() = level;
    Ok(())
}

/// Sets up logging: stderr, and the self log when `keep` (a server).
pub fn init(level: &str, keep: bool) -> anyhow::Result<()> {
    let from_env = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .context("log_level")?;
    let (filter, handle) = tracing_subscriber::reload::Layer::new(filter);
    let _ = LEVEL.set(Level { handle, current: Mutex::new(from_env.unwrap_or_else(|| level.to_string())) });
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let log = SELF_LOG.get_or_init(Default::default).clone();
    let capture = keep.then_some(Capture(log));
    let _ = tracing_subscriber::registry().with(filter).with(stderr).with(capture).try_init();
    Ok(())
}

struct Capture(Arc<SelfLog>);

struct Logfmt<'a>(&'a mut String, &'a mut String);

impl Visit for Logfmt<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.1.push_str(value);
        } else {
            let _ = write!(self.0, " {}={}", field.name(), quote(value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

fn quote(v: &str) -> String {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'=' && b != b'\\') {
        v.to_string()
    } else {
        format!("{v:?}")
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if PUSHING.with(|p| p.get()) {
            return;
        }
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "error",
            tracing::Level::WARN => "warn",
            tracing::Level::INFO => "info",
            tracing::Level::DEBUG => "debug",
            tracing::Level::TRACE => "trace",
        };
        let (mut fields, mut msg) = (String::new(), String::new());
        event.record(&mut Logfmt(&mut fields, &mut msg));
        let line = format!("level={level} msg={}{fields}", quote(&msg));
        let ts = store::now_ns();
        if matches!(level, "error" | "warn")
            && let Ok(mut last) = self.0.last.lock()
        {
            if last.len() == LAST_PROBLEMS {
                last.pop_front();
            }
            last.push_back(Problem { ts, level, line: line.clone() });
        }
        if let Ok(mut q) = self.0.queue.lock() {
            if q.len() < QUEUE {
                q.push((ts, line, level));
            } else {
                self.0.dropped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}
