//! Failed-login counting for the rate limit: failures per key (client address, user name) in
//! fixed windows, in a table of bounded size.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Entries kept at most in each in-memory table (sessions, cached credentials, failure counts).
pub(crate) const TABLE_CAP: usize = 10_000;

/// Failure counts per key (client address, user name) in fixed windows.
#[derive(Default)]
pub(crate) struct Limiter {
    failures: HashMap<String, (u32, Instant)>,
}

impl Limiter {
    /// How long until `key` may try again, if it is over the limit.
    pub(crate) fn blocked(&mut self, key: &str, max: u32, window: Duration) -> Option<Duration> {
        let now = Instant::now();
        match self.failures.get(key) {
            Some((n, start)) if now.duration_since(*start) < window => {
                (*n >= max).then(|| window - now.duration_since(*start))
            }
            Some(_) => {
                self.failures.remove(key);
                None
            }
            None => None,
        }
    }

    pub(crate) fn fail(&mut self, key: String, window: Duration) {
        let now = Instant::now();
        if self.failures.len() >= TABLE_CAP {
            self.failures.retain(|_, (_, start)| now.duration_since(*start) < window);
            if self.failures.len() >= TABLE_CAP {
                // Spread over too many addresses to track: forget the oldest half.
                let mut starts: Vec<Instant> = self.failures.values().map(|v| v.1).collect();
                starts.sort();
                let cut = starts[starts.len() / 2];
                self.failures.retain(|_, (_, s)| *s > cut);
            }
        }
        let e = self.failures.entry(key).or_insert((0, now));
        if now.duration_since(e.1) >= window {
            *e = (0, now);
        }
        e.0 += 1;
    }

    pub(crate) fn clear(&mut self, key: &str) {
        self.failures.remove(key);
    }
}
