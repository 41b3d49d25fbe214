//! The background thread that carries out delete requests past their cancel period, every
//! `process_interval`. It stops when the store or the requests are dropped.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use crate::registry::Deletes;

impl Deletes {
    /// Installs the purge hook in the store and starts processing.
    pub fn start(self: &Arc<Self>, store: &Arc<store::Store>) -> std::thread::JoinHandle<()> {
        store.set_purge(self.clone());
        let (me, store): (Weak<Deletes>, Weak<store::Store>) = (Arc::downgrade(self), Arc::downgrade(store));
        let every = self.config().process_interval.0.max(Duration::from_millis(100));
        std::thread::Builder::new()
            .name("delete-requests".into())
            .spawn(move || {
                let mut backoff = every;
                loop {
                    let until = Instant::now() + backoff;
                    while Instant::now() < until {
                        if me.strong_count() == 0 || store.strong_count() == 0 {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(100).min(every));
                    }
                    let (Some(d), Some(s)) = (me.upgrade(), store.upgrade()) else { return };
                    match d.process(&s) {
                        Ok(_) => backoff = every,
                        Err(e) => {
                            backoff = (backoff * 2).min(every * 32).max(Duration::from_secs(1));
                            tracing::error!(error = %e, retry_in_s = backoff.as_secs(), "carrying out delete requests failed; retrying");
                        }
                    }
                }
            })
            .expect("spawn delete requests thread")
    }
}
