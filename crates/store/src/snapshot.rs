//! Snapshots, as Prometheus offers them: a consistent copy of the data directory under
//! `<data_dir>/snapshots/<name>`, taken while ingesting, that a server started on it serves
//! exactly as the store stood (every push acknowledged before the snapshot, nothing after).
//!
//! Segments never change once written, so they are hard-linked. The WAL segment being appended
//! to is closed first (a rotation, under the store's lock, so no push is half in it), and the
//! closed WAL files are linked too; flushes wait meanwhile, so none of them is deleted before
//! it is linked, and the served segments are held so compaction cannot delete them either.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Store, StoreError, wal};

impl Store {
    /// Takes a snapshot named `name` (letters, digits, `-`, `_`, `.`); returns its directory.
    pub fn snapshot(&self, name: &str) -> Result<PathBuf, StoreError> {
        let bad = name.is_empty()
            || name.len() > 128
            || name.starts_with('.')
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if bad {
            return Err(StoreError::Snapshot(format!("invalid snapshot name {name:?}")));
        }
        let root = self.dir.join("snapshots");
        let dest = root.join(name);
        if dest.exists() {
            return Err(StoreError::Snapshot(format!("snapshot {name:?} exists already")));
        }
        let _no_flush = self.flush_lock.lock();
        let (segments, wal_upto) = {
            let mut inner = self.inner.lock();
            let upto = inner.wal.rotate().map_err(|e| self.io_error("snapshot", e))?;
            // Other writers' segments are in the bucket, not here.
            let segs: Vec<_> = inner.segments.iter().filter(|l| !l.seg.is_foreign()).map(|l| l.seg.clone()).collect();
            (segs, upto)
        };
        let tmp = root.join(format!(".{name}.tmp"));
        let _ = fs::remove_dir_all(&tmp);
        let res = (|| -> std::io::Result<()> {
            fs::create_dir_all(tmp.join("wal"))?;
            fs::create_dir_all(tmp.join("segments"))?;
            for s in &segments {
                let day = s.path.parent().and_then(Path::file_name).expect("segments live in day folders");
                let dir = tmp.join("segments").join(day);
                fs::create_dir_all(&dir)?;
                if s.is_local() {
                    fs::hard_link(&s.path, dir.join(s.path.file_name().unwrap()))?;
                }
                // Uploaded: its marker lets the copy serve it from the bucket once evicted.
                let marker = crate::tier::sibling(&s.path, "remote");
                if marker.exists() {
                    fs::hard_link(&marker, dir.join(marker.file_name().unwrap()))?;
                }
            }
            let wal_dir = self.dir.join("wal");
            for seq in wal::list_segments(&wal_dir)?.into_iter().filter(|&q| q <= wal_upto) {
                let from = wal::segment_path(&wal_dir, seq);
                fs::hard_link(&from, wal::segment_path(&tmp.join("wal"), seq))?;
            }
            match fs::copy(self.dir.join("FORMAT"), tmp.join("FORMAT")) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            fs::rename(&tmp, &dest)?;
            wal::sync_dir(&root);
            Ok(())
        })();
        if let Err(e) = res {
            let _ = fs::remove_dir_all(&tmp);
            return Err(self.io_error("snapshot", e));
        }
        tracing::info!(snapshot = %dest.display(), segments = segments.len(), "snapshot taken");
        Ok(dest)
    }
}
