//! The notification log: per aggregation group and integration, which alerts were firing and
//! resolved in the last notification and when it went out, so a group is only sent again when
//! it changed or `repeat_interval` passed (Alertmanager's rules). Kept in
//! `<data_dir>/alertmanager/nflog.json` across restarts; entries older than 5 days are dropped.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub const RETENTION: Duration = Duration::from_secs(5 * 86400);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub firing: Vec<u64>,
    pub resolved: Vec<u64>,
    pub at: Timestamp,
}

pub struct NotificationLog {
    entries: HashMap<String, Entry>,
    path: PathBuf,
    dirty: bool,
}

fn subset(small: &[u64], big: &[u64]) -> bool {
    small.iter().all(|x| big.contains(x))
}

impl NotificationLog {
    pub fn load(dir: &Path) -> Self {
        let path = dir.join("nflog.json");
        let entries = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_else(|e| {
                tracing::warn!("ignoring unreadable notification log {}: {e}", path.display());
                HashMap::new()
            }),
            Err(_) => HashMap::new(),
        };
        NotificationLog { entries, path, dirty: false }
    }

    /// Whether the integration must be notified of this state of the group.
    pub fn needs_update(
        &self,
        key: &str,
        firing: &[u64],
        resolved: &[u64],
        send_resolved: bool,
        repeat: Duration,
        now: Timestamp,
    ) -> bool {
        let Some(e) = self.entries.get(key) else { return !firing.is_empty() };
        if !subset(firing, &e.firing) {
            return true;
        }
        if firing.is_empty() {
            // Everything resolved: say so (or, without send_resolved, clear the log) once.
            return !e.firing.is_empty();
        }
        if send_resolved && !subset(resolved, &e.resolved) {
            return true;
        }
        e.at + repeat <= now
    }

    pub fn record(&mut self, key: &str, mut firing: Vec<u64>, mut resolved: Vec<u64>, now: Timestamp) {
        firing.sort_unstable();
        resolved.sort_unstable();
        self.entries.insert(key.to_string(), Entry { firing, resolved, at: now });
        self.dirty = true;
    }

    pub fn gc(&mut self, now: Timestamp) {
        let before = self.entries.len();
        self.entries.retain(|_, e| e.at + RETENTION > now);
        self.dirty |= before != self.entries.len();
    }

    /// Writes the log if it changed (temporary file, fsync, rename).
    pub fn persist(&mut self) -> std::io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        if let Some(d) = self.path.parent() {
            std::fs::create_dir_all(d)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(&self.entries)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alertmanagers_dedup_rules() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = NotificationLog::load(dir.path());
        let now = Timestamp::now();
        let rep = Duration::from_secs(3600);
        assert!(log.needs_update("k", &[1], &[], true, rep, now));
        assert!(!log.needs_update("k", &[], &[1], true, rep, now), "only resolved, never notified");
        log.record("k", vec![1], vec![], now);
        assert!(!log.needs_update("k", &[1], &[], true, rep, now));
        assert!(log.needs_update("k", &[1, 2], &[], true, rep, now));
        assert!(log.needs_update("k", &[1], &[], true, rep, now + rep));
        assert!(log.needs_update("k", &[], &[1], false, rep, now));
        log.record("k", vec![1, 2], vec![], now);
        assert!(log.needs_update("k", &[1], &[2], true, rep, now));
        assert!(!log.needs_update("k", &[1], &[2], false, rep, now));
        log.persist().unwrap();
        let back = NotificationLog::load(dir.path());
        assert!(!back.needs_update("k", &[1, 2], &[], true, rep, now));
    }
}
