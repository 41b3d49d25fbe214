//! Running out of disk space, and getting it back.
//!
//! Writes that fail for lack of space (`ENOSPC`, `EDQUOT`) put the store in the "disk full"
//! state: pushes are refused with a clear error (the API answers 507) after leaving no trace in
//! the WAL, reads go on, flushes and compactions back off and retry. The first write that
//! succeeds again ends the state. Both transitions are logged once and shown by the
//! `bitacora_disk_full` gauge.

use std::sync::atomic::{AtomicBool, Ordering};

use prometheus_client::metrics::gauge::Gauge;

/// Whether an I/O error means the file system has no room left.
pub fn is_no_space(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
}

#[derive(Default)]
pub struct DiskSpace {
    full: AtomicBool,
    gauge: Gauge,
}

impl DiskSpace {
    pub fn new(gauge: Gauge) -> DiskSpace {
        DiskSpace { full: AtomicBool::new(false), gauge }
    }

    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// Records a failed write; returns whether it failed for lack of space.
    pub fn failed(&self, what: &str, e: &std::io::Error) -> bool {
        if !is_no_space(e) {
            return false;
        }
        if !self.full.swap(true, Ordering::Relaxed) {
            self.gauge.set(1);
            tracing::error!(
                during = what,
                error = %e,
                "disk full: pushes are refused (507) and nothing is lost; queries keep working. Free space in the data directory, or lower store.retention_max_bytes; writing resumes by itself"
            );
        }
        true
    }

    /// Records a successful write.
    pub fn succeeded(&self) {
        if self.full.swap(false, Ordering::Relaxed) {
            self.gauge.set(0);
            tracing::warn!("disk space is back: pushes, flushes and compaction resume");
        }
    }
}

/// Free (for this user) and total bytes of the file system holding `path`.
pub fn fs_space(path: &std::path::Path) -> (u64, u64) {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return (0, 0) };
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a valid C string and a struct we own.
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return (0, 0);
    }
    (st.f_bavail as u64 * st.f_frsize as u64, st.f_blocks as u64 * st.f_frsize as u64)
}
