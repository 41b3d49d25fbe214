//! The on-disk format's version, kept in `<data_dir>/FORMAT`.
//!
//! A data directory written by this release says `bitacora data format 6` (format 1: segments
//! without gram filters, which this release still reads and queries without that pruning; tests
//! keep a small directory of format 1 as a fixture; format 2: without window digests, whose
//! blocks replicated counts compare entry by entry; format 3: with digests of windows closed on
//! the left, read as format 2, and without tallies, so counts decode its column frames; format 4:
//! segments that do not record their zstd level, which the cold tier recompresses once; format
//! 5: gram filters of 4-byte windows only, read as such; tests keep a directory of format 5 as
//! a fixture too). An older directory is marked 6 when this release opens it, since the
//! segments it writes from then on are of version 6, so an older release refuses it instead of
//! failing on them. A directory written by a newer release is refused with a clear message
//! before anything in it is touched, never "repaired". Segment files carry their own version
//! in their trailing magic number too.

use std::fs;
use std::path::Path;

/// The format this release writes and the newest it reads.
pub const VERSION: u32 = 6;
const PREFIX: &str = "bitacora data format ";

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error(
        "data directory {dir} was written by a newer bitacora (data format {found}; this release reads up to {VERSION}). Upgrade bitacora, or choose another --data-dir; nothing was changed"
    )]
    Newer { dir: String, found: u32 },
    #[error("data directory {dir}: FORMAT file unreadable ({text:?}); expected \"{PREFIX}N\"")]
    Unreadable { dir: String, text: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Checks the directory's format (a directory without the file is new, or from before the file
/// existed: both are version 1) and records this release's version when it is missing.
pub fn check(dir: &Path) -> Result<u32, FormatError> {
    let path = dir.join("FORMAT");
    match fs::read_to_string(&path) {
        Ok(text) => {
            let v = text
                .trim()
                .strip_prefix(PREFIX)
                .and_then(|v| v.parse::<u32>().ok())
                .ok_or_else(|| FormatError::Unreadable { dir: dir.display().to_string(), text: text.clone() })?;
            if v > VERSION {
                return Err(FormatError::Newer { dir: dir.display().to_string(), found: v });
            }
            if v < VERSION {
                write(dir)?;
            }
            Ok(v)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Written whole or not at all; on a full disk it is simply written at the next start.
            let _ = write(dir);
            Ok(VERSION)
        }
        Err(e) => Err(e.into()),
    }
}

/// Records this release's version (a temporary file renamed into place).
fn write(dir: &Path) -> std::io::Result<()> {
    let tmp = dir.join("FORMAT.tmp");
    let res = fs::write(&tmp, format!("{PREFIX}{VERSION}\n")).and_then(|_| fs::rename(&tmp, dir.join("FORMAT")));
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_directories_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check(dir.path()).unwrap(), 6);
        assert_eq!(fs::read_to_string(dir.path().join("FORMAT")).unwrap(), "bitacora data format 6\n");
        // An older directory is read, and marked as this release's from now on.
        fs::write(dir.path().join("FORMAT"), "bitacora data format 1\n").unwrap();
        assert_eq!(check(dir.path()).unwrap(), 1);
        assert_eq!(fs::read_to_string(dir.path().join("FORMAT")).unwrap(), "bitacora data format 6\n");
        fs::write(dir.path().join("FORMAT"), "bitacora data format 7\n").unwrap();
        let err = check(dir.path()).unwrap_err().to_string();
        assert!(err.contains("newer bitacora (data format 7"), "{err}");
        assert_eq!(fs::read_to_string(dir.path().join("FORMAT")).unwrap(), "bitacora data format 7\n");
    }
}
