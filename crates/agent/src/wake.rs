//! Readers woken the moment Docker writes to their json-file, instead of at their next poll.
//!
//! The inotify watch that opens new json-files early (see [`crate::early`]) also sees every
//! write to them: a write to `<id>-json.log` wakes the reader registered for container `id`,
//! its creation (a rotation's new file) the container's rotation watch. Polling stays as the
//! fallback (no inotify, a missed event), so a line reaches the sink within milliseconds of its
//! write rather than within `poll_interval`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::Notify;

/// What a waiter waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// Lines written to the file (a reader).
    Write,
    /// The file created anew (a rotation watch).
    Create,
}

type Waiters = HashMap<String, Vec<(On, Arc<Notify>)>>;

static READERS: OnceLock<Mutex<Waiters>> = OnceLock::new();

fn readers() -> &'static Mutex<Waiters> {
    READERS.get_or_init(Default::default)
}

/// A reader's registration; dropping it unregisters the reader.
pub struct Wakeup {
    id: String,
    notify: Arc<Notify>,
}

impl Wakeup {
    /// Registers a waiter for container `id`'s file.
    pub fn register(id: &str, on: On) -> Wakeup {
        let notify = Arc::new(Notify::new());
        readers()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id.to_string())
            .or_default()
            .push((on, notify.clone()));
        Wakeup { id: id.to_string(), notify }
    }

    /// Resolves at the next write to (or creation of) the container's file, as registered (at
    /// once if one came since the last call).
    pub async fn written(&self) {
        self.notify.notified().await
    }
}

impl Drop for Wakeup {
    fn drop(&mut self) {
        let mut m = readers().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = m.get_mut(&self.id) {
            v.retain(|(_, n)| !Arc::ptr_eq(n, &self.notify));
            if v.is_empty() {
                m.remove(&self.id);
            }
        }
    }
}

/// Docker wrote to container `id`'s json-file.
pub fn written(id: &str) {
    wake(id, On::Write)
}

/// Docker created container `id`'s json-file (at its start, or rotating it).
pub fn created(id: &str) {
    wake(id, On::Create)
}

fn wake(id: &str, on: On) {
    if let Some(v) = readers().lock().unwrap_or_else(|e| e.into_inner()).get(id) {
        for (_, n) in v.iter().filter(|(o, _)| *o == on) {
            n.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_wakes_its_reader_only() {
        let a = Wakeup::register("aaa", On::Write);
        let b = Wakeup::register("bbb", On::Write);
        written("aaa");
        tokio::time::timeout(std::time::Duration::from_secs(1), a.written()).await.expect("woken");
        assert!(tokio::time::timeout(std::time::Duration::from_millis(50), b.written()).await.is_err());
        // A rotation watch wakes at a new file only; the reader at writes only.
        let a2 = Wakeup::register("aaa", On::Create);
        written("aaa");
        tokio::time::timeout(std::time::Duration::from_secs(1), a.written()).await.expect("reader woken");
        assert!(tokio::time::timeout(std::time::Duration::from_millis(50), a2.written()).await.is_err());
        created("aaa");
        tokio::time::timeout(std::time::Duration::from_secs(1), a2.written()).await.expect("watch woken");
        assert!(tokio::time::timeout(std::time::Duration::from_millis(50), a.written()).await.is_err());
        drop(a);
        drop(a2);
        written("aaa");
        assert!(!readers().lock().unwrap().contains_key("aaa"));
    }
}
