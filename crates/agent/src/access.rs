//! Whether this process can read a container's json-file, told apart from a file that is only
//! not there yet: a container created but not started has a known path and no file, while an
//! agent without access to Docker's data directory gets `EACCES` for every path under it (and
//! `Path::exists` says `false` for both).

use std::io::ErrorKind;
use std::path::Path;

/// `Ok` if `path` opens, or if it does not exist yet in a directory this process can list (it
/// will be opened once Docker creates it); the error (permission denied, mostly) otherwise.
pub fn check(path: &Path) -> std::io::Result<()> {
    match std::fs::File::open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            // The nearest existing directory must be listable: new files are found there.
            let mut dir = path.parent();
            while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
                match std::fs::read_dir(d) {
                    Ok(_) => return Ok(()),
                    Err(e) if e.kind() == ErrorKind::NotFound => dir = d.parent(),
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The effective uid, for messages about permissions.
pub fn uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn missing_readable_and_unreadable() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("c").join("c-json.log");
        assert!(check(&f).is_ok(), "not created yet");
        std::fs::create_dir(d.path().join("c")).unwrap();
        std::fs::write(&f, b"{}\n").unwrap();
        assert!(check(&f).is_ok());
        if uid() != 0 {
            // Root reads everything; as anyone else a closed directory is refused.
            std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o000)).unwrap();
            let e = check(&f).unwrap_err();
            std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        }
    }
}
