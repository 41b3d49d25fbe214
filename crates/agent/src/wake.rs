//! Readers woken the moment Docker writes to their json-file, instead of at their next poll.
//!
//! The inotify watch that opens new json-files early (see [`crate::early`]) also sees every
//! write to them; a write to `<id>-json.log` wakes the reader registered for container `id`.
//! Polling stays as the fallback (no inotify, a missed event), so a line reaches the sink within
//! milliseconds of its write rather than within `poll_interval`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::Notify;

static READERS: OnceLock<Mutex<HashMap<String, Arc<Notify>>>> = OnceLock::new();

fn readers() -> &'static Mutex<HashMap<String, Arc<Notify>>> {
    READERS.get_or_init(Default::default)
}

/// A reader's registration; dropping it unregisters the reader.
pub struct Wakeup {
    id: String,
    notify: Arc<Notify>,
}

impl Wakeup {
    /// Registers the reader of container `id`.
    pub fn register(id: &str) -> Wakeup {
        let notify = Arc::new(Notify::new());
        readers().lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string(), notify.clone());
        Wakeup { id: id.to_string(), notify }
    }

    /// Resolves at the next write to the container's file (at once if one came since the last
    /// call).
    pub async fn written(&self) {
        self.notify.notified().await
    }
}

impl Drop for Wakeup {
    fn drop(&mut self) {
        let mut m = readers().lock().unwrap_or_else(|e| e.into_inner());
        if m.get(&self.id).is_some_and(|n| Arc::ptr_eq(n, &self.notify)) {
            m.remove(&self.id);
        }
    }
}

/// Docker wrote to container `id`'s json-file.
pub fn written(id: &str) {
    if let Some(n) = readers().lock().unwrap_or_else(|e| e.into_inner()).get(id) {
        n.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_wakes_its_reader_only() {
        let a = Wakeup::register("aaa");
        let b = Wakeup::register("bbb");
        written("aaa");
        tokio::time::timeout(std::time::Duration::from_secs(1), a.written()).await.expect("woken");
        assert!(tokio::time::timeout(std::time::Duration::from_millis(50), b.written()).await.is_err());
        drop(a);
        written("aaa");
        assert!(!readers().lock().unwrap().contains_key("aaa"));
    }
}
