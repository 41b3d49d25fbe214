//! Ownership of a data directory: one process at a time.
//!
//! Two advisory locks (`flock`), both held for the life of the store: one on the `LOCK` file
//! (what an operator sees) and one on the directory itself. Deleting `LOCK` defeats the first,
//! never the second: a directory that holds data cannot be deleted and recreated under a
//! running server, so a second server finds it locked whatever happened to the file.

use std::fs::File;
use std::path::{Path, PathBuf};

pub struct DirLock {
    _file: File,
    _dir: File,
}

#[derive(Debug)]
pub enum LockError {
    Io(PathBuf, std::io::Error),
    Held(PathBuf),
}

impl DirLock {
    pub fn acquire(dir: &Path) -> Result<DirLock, LockError> {
        let d = File::open(dir).map_err(|e| LockError::Io(dir.to_path_buf(), e))?;
        if d.try_lock().is_err() {
            return Err(LockError::Held(dir.to_path_buf()));
        }
        let path = dir.join("LOCK");
        let f = File::create(&path).map_err(|e| LockError::Io(path.clone(), e))?;
        if f.try_lock().is_err() {
            return Err(LockError::Held(dir.to_path_buf()));
        }
        Ok(DirLock { _file: f, _dir: d })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_lock_file_does_not_free_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        assert!(matches!(DirLock::acquire(dir.path()), Err(LockError::Held(_))));
        std::fs::remove_file(dir.path().join("LOCK")).unwrap();
        assert!(matches!(DirLock::acquire(dir.path()), Err(LockError::Held(_))));
        drop(first);
        assert!(DirLock::acquire(dir.path()).is_ok());
    }
}
