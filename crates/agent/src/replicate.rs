//! Replicated pushes (`agent.push_urls: [a, b]`): every batch goes to each writer, and counts
//! as acknowledged once `push_quorum` of them (default: all) accepted it. Queries over the
//! writers deduplicate exact duplicates, so a writer whose disk is lost loses no line another
//! one acknowledged.
//!
//! A batch that did not reach its quorum is retried by the shipper as a whole; this sink
//! remembers which writers already accepted that batch (by the hash of its encoded body) and
//! sends the retry only to the others, so a writer that was down for a minute does not make
//! the healthy one store every batch twice.

use std::collections::hash_map::DefaultHasher;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use model::{Entry, Labels};

use crate::config::AgentConfig;
use crate::ship::{HttpSink, PushError, Sink, encode};

/// The sink `cfg` names: `push_url` and `push_urls` together (one URL: a plain HTTP push), or
/// `None` without any URL.
pub fn from_config(cfg: &AgentConfig) -> Result<Option<Arc<dyn Sink>>, String> {
    let mut urls: Vec<&str> = cfg.push_url.iter().map(|u| u.expose()).collect();
    for u in &cfg.push_urls {
        if !urls.contains(&u.expose()) {
            urls.push(u.expose());
        }
    }
    if cfg.push_quorum > urls.len().max(1) {
        return Err(format!("agent.push_quorum {} is more than the {} push URLs", cfg.push_quorum, urls.len()));
    }
    Ok(match urls.as_slice() {
        [] => None,
        [one] => Some(Arc::new(HttpSink::new(one, cfg))),
        many => Some(Arc::new(Replicated::new(many.iter().map(|u| HttpSink::new(u, cfg)).collect(), cfg.push_quorum))),
    })
}

/// Where a batch stands with one writer.
#[derive(Debug, Clone)]
enum Outcome {
    Pending,
    Accepted,
    Refused(String),
}

pub struct Replicated {
    replicas: Vec<HttpSink>,
    quorum: usize,
    /// The batch being retried: its body's hash and each writer's outcome.
    last: Mutex<Option<(u64, Vec<Outcome>)>>,
}

impl Replicated {
    /// `quorum` 0 means every writer.
    pub fn new(replicas: Vec<HttpSink>, quorum: usize) -> Replicated {
        let n = replicas.len();
        let quorum = if quorum == 0 { n } else { quorum.min(n) };
        Replicated { replicas, quorum, last: Mutex::new(None) }
    }

    async fn push_body(&self, body: Vec<u8>) -> Result<(), PushError> {
        let mut h = DefaultHasher::new();
        body.hash(&mut h);
        let hash = h.finish();
        let mut outcomes = match self.last.lock().unwrap_or_else(|e| e.into_inner()).take() {
            Some((h, o)) if h == hash => o,
            _ => vec![Outcome::Pending; self.replicas.len()],
        };
        let todo: Vec<usize> = (0..outcomes.len()).filter(|&i| matches!(outcomes[i], Outcome::Pending)).collect();
        let answers =
            futures_util::future::join_all(todo.iter().map(|&i| self.replicas[i].push_body(body.clone()))).await;
        let mut retry_after: Option<Duration> = None;
        let mut errors: Vec<String> = Vec::new();
        for (&i, answer) in todo.iter().zip(answers) {
            match answer {
                Ok(()) => outcomes[i] = Outcome::Accepted,
                Err(PushError::Refused(m)) => outcomes[i] = Outcome::Refused(m),
                Err(PushError::Retry { message, retry_after: ra }) => {
                    retry_after = retry_after.max(ra);
                    errors.push(format!("{}: {message}", self.replicas[i].name()));
                }
            }
        }
        let accepted = outcomes.iter().filter(|o| matches!(o, Outcome::Accepted)).count();
        let pending = outcomes.iter().filter(|o| matches!(o, Outcome::Pending)).count();
        for (i, o) in outcomes.iter().enumerate() {
            if let Outcome::Refused(m) = o
                && accepted > 0
            {
                tracing::error!(writer = %self.replicas[i].name(), error = %m, "one writer refused a batch the others accepted");
            }
        }
        if accepted >= self.quorum {
            if pending > 0 {
                tracing::warn!(
                    missing = pending,
                    accepted,
                    quorum = self.quorum,
                    errors = %errors.join("; "),
                    "a batch reached its quorum without every writer"
                );
            }
            return Ok(());
        }
        if pending == 0 {
            if accepted > 0 {
                return Ok(()); // every writer answered for good, and at least one holds it
            }
            let why: Vec<String> = outcomes
                .iter()
                .zip(&self.replicas)
                .filter_map(|(o, r)| match o {
                    Outcome::Refused(m) => Some(format!("{}: {m}", r.name())),
                    _ => None,
                })
                .collect();
            return Err(PushError::Refused(why.join("; ")));
        }
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((hash, outcomes));
        Err(PushError::Retry {
            message: format!(
                "{accepted} of {} writers accepted the batch (quorum {}): {}",
                self.replicas.len(),
                self.quorum,
                errors.join("; ")
            ),
            retry_after,
        })
    }
}

impl Sink for Replicated {
    fn push<'a>(
        &'a self,
        streams: &'a [(Labels, Vec<Entry>)],
    ) -> Pin<Box<dyn Future<Output = Result<(), PushError>> + Send + 'a>> {
        Box::pin(self.push_body(encode(streams)))
    }
}
