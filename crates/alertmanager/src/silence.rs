//! Silences: matchers that mute alerts between `startsAt` and `endsAt`, with who made them and
//! why. Created, updated and expired through Alertmanager's API shapes; kept in
//! `<data_dir>/alertmanager/silences.json` (written atomically); expired ones are kept 5 days.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use model::{MatchOp, Matcher};
use serde::{Deserialize, Serialize};

/// How long an expired silence stays listed.
pub const RETENTION: Duration = Duration::from_secs(5 * 86400);

/// A matcher as the API writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiMatcher {
    pub name: String,
    pub value: String,
    pub is_regex: bool,
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl ApiMatcher {
    pub fn compile(&self) -> Result<Matcher, String> {
        let op = match (self.is_regex, self.is_equal) {
            (false, true) => MatchOp::Eq,
            (false, false) => MatchOp::Neq,
            (true, true) => MatchOp::Re,
            (true, false) => MatchOp::Nre,
        };
        if self.name.is_empty() {
            return Err("matcher with an empty label name".into());
        }
        Matcher::new(&self.name, op, &self.value)
            .map_err(|e| format!("matcher {}: invalid regular expression: {e}", self.name))
    }

    pub fn from_matcher(m: &Matcher) -> Self {
        ApiMatcher {
            name: m.name.clone(),
            value: m.value.clone(),
            is_regex: matches!(m.op, MatchOp::Re | MatchOp::Nre),
            is_equal: matches!(m.op, MatchOp::Eq | MatchOp::Re),
        }
    }
}

/// A silence as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    pub id: String,
    pub matchers: Vec<ApiMatcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}

/// The body of `POST /api/v2/silences`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableSilence {
    #[serde(default)]
    pub id: Option<String>,
    pub matchers: Vec<ApiMatcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    #[serde(default)]
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceState {
    Pending,
    Active,
    Expired,
}

impl Silence {
    pub fn state(&self, now: Timestamp) -> SilenceState {
        if self.ends_at <= now {
            SilenceState::Expired
        } else if self.starts_at > now {
            SilenceState::Pending
        } else {
            SilenceState::Active
        }
    }

    /// Alertmanager's `gettableSilence`.
    pub fn gettable(&self, now: Timestamp) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        v["status"] = serde_json::json!({ "state": self.state(now) });
        v
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SilenceError {
    #[error("{0}")]
    Invalid(String),
    #[error("silence {0} not found")]
    NotFound(String),
    #[error("silence {0} is already expired")]
    Expired(String),
}

struct Entry {
    silence: Silence,
    matchers: Vec<Matcher>,
}

#[derive(Serialize, Deserialize)]
struct File {
    silences: Vec<Silence>,
}

/// All silences, with their compiled matchers.
pub struct Silences {
    entries: HashMap<String, Entry>,
    path: PathBuf,
}

impl Silences {
    /// Loads `dir/silences.json` (missing: none).
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("silences.json");
        let mut entries = HashMap::new();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let f: File = serde_json::from_slice(&bytes)
                    .map_err(|e| anyhow::anyhow!("silences file {}: {e}", path.display()))?;
                for s in f.silences {
                    let matchers = s.matchers.iter().map(ApiMatcher::compile).collect::<Result<Vec<_>, _>>();
                    match matchers {
                        Ok(matchers) => {
                            entries.insert(s.id.clone(), Entry { silence: s, matchers });
                        }
                        Err(e) => tracing::warn!(id = s.id, "dropping silence with a bad matcher: {e}"),
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(anyhow::anyhow!("cannot read silences file {}: {e}", path.display())),
        }
        Ok(Silences { entries, path })
    }

    /// Writes every silence to disk (temporary file, fsync, rename).
    pub fn persist(&self) -> std::io::Result<()> {
        let mut list: Vec<Silence> = self.entries.values().map(|e| e.silence.clone()).collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        let bytes = serde_json::to_vec_pretty(&File { silences: list })?;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)
    }

    /// Creates a silence, or updates the one named by `id`: in place when only its end,
    /// comment or author change (or it has not started), otherwise by expiring it and
    /// creating a new one, as Alertmanager does. Returns the silence's id.
    pub fn upsert(&mut self, p: PostableSilence, now: Timestamp) -> Result<String, SilenceError> {
        let inv = |s: String| SilenceError::Invalid(s);
        if p.matchers.is_empty() {
            return Err(inv("a silence needs at least one matcher".into()));
        }
        let matchers = p.matchers.iter().map(ApiMatcher::compile).collect::<Result<Vec<_>, _>>().map_err(inv)?;
        if matchers.iter().all(|m| m.matches_empty()) {
            return Err(inv(
                "at least one matcher must not match the empty string (it would silence everything)".into()
            ));
        }
        if p.ends_at <= p.starts_at {
            return Err(inv(format!("endsAt {} is not after startsAt {}", p.ends_at, p.starts_at)));
        }
        if p.ends_at <= now {
            return Err(inv(format!("endsAt {} is in the past", p.ends_at)));
        }
        if p.created_by.trim().is_empty() {
            return Err(inv("createdBy is missing".into()));
        }
        if p.comment.trim().is_empty() {
            return Err(inv("comment is missing".into()));
        }
        let prev = match p.id.as_deref().filter(|s| !s.is_empty()) {
            Some(id) => Some(self.entries.get(id).ok_or_else(|| SilenceError::NotFound(id.to_string()))?),
            None => None,
        };
        let in_place = prev.is_some_and(|e| match e.silence.state(now) {
            SilenceState::Expired => false,
            SilenceState::Pending => p.starts_at >= now || p.starts_at == e.silence.starts_at,
            SilenceState::Active => p.starts_at == e.silence.starts_at && p.matchers == e.silence.matchers,
        });
        let starts_at = if p.starts_at < now && !in_place { now } else { p.starts_at };
        let id = if in_place {
            p.id.clone().unwrap_or_default()
        } else {
            if let Some(old) = p.id.as_deref() {
                let _ = self.expire(old, now);
            }
            new_id()
        };
        let silence = Silence {
            id: id.clone(),
            matchers: p.matchers,
            starts_at,
            ends_at: p.ends_at,
            updated_at: now,
            created_by: p.created_by,
            comment: p.comment,
        };
        self.entries.insert(id.clone(), Entry { silence, matchers });
        Ok(id)
    }

    /// Ends a silence now (a pending one never starts).
    pub fn expire(&mut self, id: &str, now: Timestamp) -> Result<(), SilenceError> {
        let e = self.entries.get_mut(id).ok_or_else(|| SilenceError::NotFound(id.to_string()))?;
        let s = &mut e.silence;
        match s.state(now) {
            SilenceState::Expired => return Err(SilenceError::Expired(id.to_string())),
            SilenceState::Pending => {
                s.starts_at = now;
                s.ends_at = now;
            }
            SilenceState::Active => s.ends_at = now,
        }
        s.updated_at = now;
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Silence> {
        self.entries.get(id).map(|e| &e.silence)
    }

    pub fn list(&self) -> impl Iterator<Item = &Silence> {
        self.entries.values().map(|e| &e.silence)
    }

    /// Ids of the active silences that match these labels.
    pub fn silenced_by(&self, labels: &BTreeMap<String, String>, now: Timestamp) -> Vec<String> {
        let mut ids: Vec<String> = self
            .entries
            .values()
            .filter(|e| e.silence.state(now) == SilenceState::Active)
            .filter(|e| crate::matchers::matches_all(&e.matchers, |n| labels.get(n).map(String::as_str)))
            .map(|e| e.silence.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Drops silences expired more than [`RETENTION`] ago; returns how many.
    pub fn gc(&mut self, now: Timestamp) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, e| e.silence.ends_at + RETENTION > now);
        before - self.entries.len()
    }

    /// Counts by state.
    pub fn counts(&self, now: Timestamp) -> [(SilenceState, i64); 3] {
        let mut c = [(SilenceState::Active, 0), (SilenceState::Pending, 0), (SilenceState::Expired, 0)];
        for e in self.entries.values() {
            let st = e.silence.state(now);
            if let Some(x) = c.iter_mut().find(|(s, _)| *s == st) {
                x.1 += 1;
            }
        }
        c
    }
}

/// A random (version 4) UUID, as Alertmanager's silence ids.
fn new_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the system's random source");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(id: Option<&str>, name: &str, s: Timestamp, e: Timestamp) -> PostableSilence {
        PostableSilence {
            id: id.map(String::from),
            matchers: vec![ApiMatcher { name: name.into(), value: "X".into(), is_regex: false, is_equal: true }],
            starts_at: s,
            ends_at: e,
            created_by: "me".into(),
            comment: "c".into(),
        }
    }

    #[test]
    fn lifecycle_and_persistence() {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::now();
        let h = Duration::from_secs(3600);
        let mut s = Silences::load(dir.path()).unwrap();
        let id = s.upsert(post(None, "alertname", now, now + h), now).unwrap();
        assert_eq!(id.len(), 36);
        let labels: BTreeMap<_, _> = [("alertname".to_string(), "X".to_string())].into();
        assert_eq!(s.silenced_by(&labels, now), vec![id.clone()]);
        // Extending the end keeps the id; changing matchers of an active one makes a new one.
        assert_eq!(s.upsert(post(Some(&id), "alertname", now, now + h + h), now).unwrap(), id);
        let id2 = s.upsert(post(Some(&id), "job", now, now + h), now).unwrap();
        assert_ne!(id2, id);
        assert_eq!(s.get(&id).unwrap().state(now), SilenceState::Expired);
        s.persist().unwrap();
        let back = Silences::load(dir.path()).unwrap();
        assert_eq!(back.get(&id2), s.get(&id2));
        assert!(matches!(s.expire(&id, now), Err(SilenceError::Expired(_))));
        assert!(matches!(s.upsert(post(None, "a", now + h, now), now), Err(SilenceError::Invalid(_))));
        let mut empty = post(None, "a", now, now + h);
        empty.matchers[0].value = String::new();
        assert!(s.upsert(empty, now).unwrap_err().to_string().contains("empty string"));
        assert_eq!(s.gc(now + RETENTION + Duration::from_secs(1)), 1);
    }
}
