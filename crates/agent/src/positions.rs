//! Read positions, saved atomically (temporary file, fsync, rename) and advanced only for
//! entries the receiver acknowledged.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where a container's acknowledged entries end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Position {
    /// The json-file's inode (0 for containers read through the API).
    pub inode: u64,
    /// Byte offset in that file to resume at.
    pub offset: u64,
    /// Newest acknowledged timestamp (the API reader resumes by it, having no offsets).
    pub ts: i64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Positions {
    pub containers: BTreeMap<String, Position>,
    /// The name each container was first seen under (its `container_name` when it has no Dokku
    /// labels), so Docker renames, and agent restarts after them, keep its stream.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
}

impl Positions {
    /// Loads the file; a missing file is an empty set, a damaged one is reported and ignored.
    pub fn load(path: &Path) -> Positions {
        match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b).unwrap_or_else(|e| {
                tracing::error!(path = %path.display(), error = %e, "positions file is damaged; starting without positions");
                Positions::default()
            }),
            Err(_) => Positions::default(),
        }
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let tmp: PathBuf = path.with_extension("tmp");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(self).unwrap_or_default())?;
        f.sync_data()?;
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_and_load() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("pos.json");
        assert!(Positions::load(&p).containers.is_empty());
        let mut pos = Positions::default();
        pos.containers.insert("abc".into(), Position { inode: 7, offset: 42, ts: 9 });
        pos.save(&p).unwrap();
        assert_eq!(Positions::load(&p).containers["abc"], Position { inode: 7, offset: 42, ts: 9 });
        std::fs::write(&p, "{broken").unwrap();
        assert!(Positions::load(&p).containers.is_empty());
    }
}
