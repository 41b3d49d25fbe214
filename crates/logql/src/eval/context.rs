//! Per-query state: the source, cancellation, the deadline and the statistics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering as AtOrd};
use std::time::Instant;

use model::Labels;

use super::{EngineError, LogSource, Stats};
use crate::pipeline::labels::ERROR_LABEL;

pub(crate) struct Ctx<'a> {
    pub(super) src: &'a dyn LogSource,
    pub(super) cancel: Option<Arc<AtomicBool>>,
    pub(super) deadline: Option<Instant>,
    pub(super) stats: Stats,
    pub(super) counter: u32,
    /// Threads the query may read and filter with.
    pub(super) threads: usize,
}

/// Entries read between two checks of cancellation and the deadline: few, since one entry's
/// pipeline may cost milliseconds (a template calling a regex function on a long line), and a
/// check is an atomic load and a read of the clock (tens of nanoseconds).
pub(crate) const CHECK_EVERY: u32 = 16;

/// Cancellation and time-out, checked from any thread.
pub(crate) fn check(cancel: Option<&Arc<AtomicBool>>, deadline: Option<Instant>) -> Result<(), EngineError> {
    if cancel.is_some_and(|c| c.load(AtOrd::Relaxed)) {
        return Err(EngineError::Cancelled);
    }
    if deadline.is_some_and(|d| Instant::now() > d) {
        return Err(EngineError::Timeout);
    }
    Ok(())
}

impl Ctx<'_> {
    pub(crate) fn check(&mut self) -> Result<(), EngineError> {
        self.counter = self.counter.wrapping_add(1);
        if !self.counter.is_multiple_of(CHECK_EVERY) {
            return Ok(());
        }
        self.check_now()
    }
    pub(crate) fn check_now(&self) -> Result<(), EngineError> {
        if let Some(c) = &self.cancel
            && c.load(AtOrd::Relaxed)
        {
            return Err(EngineError::Cancelled);
        }
        if let Some(d) = self.deadline
            && Instant::now() > d
        {
            return Err(EngineError::Timeout);
        }
        Ok(())
    }
}

pub(crate) fn pipeline_error(labels: &Labels) -> EngineError {
    let err = labels.get(ERROR_LABEL).unwrap_or("");
    EngineError::BadRequest(format!(
        "pipeline error: '{err}' for series: '{labels}'.\nUse a label filter to intentionally skip this error. (e.g | __error__!=\"{err}\").\nTo skip all potential errors you can match empty errors.(e.g __error__=\"\")\nThe label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n"
    ))
}
