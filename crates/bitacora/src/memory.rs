//! How the process asks glibc's allocator to behave, set once before any thread starts.
//!
//! Left alone, glibc keeps what a thread frees in that thread's arena (up to eight per core)
//! and raises its mmap threshold each time a big buffer is freed, so the 1 MiB blocks and
//! 512 KiB filter scratch of the flusher, the head buffers and the decoded pushes of the
//! request threads end up in arenas that never shrink: ingesting at full speed, the server's
//! RSS was three times its heap (heaptrack: 40 MiB of heap, 117 MiB resident).
//!
//! A fixed mmap threshold of 4 MiB sends the biggest buffers straight back to the kernel when
//! they are freed, and two arenas bound what the other threads hold. (At 1 MiB, every block a
//! query decompresses, about 1 MiB, was a fresh mapping: page faults and zeroed pages cost a
//! scan 23 % more CPU, for no lower RSS: 75–81 MiB ingesting at full speed, 80–85 at 4 MiB.)
//!
//! A trim threshold of 64 MiB stops glibc from handing the top of an arena back at every free
//! of a big buffer (a push's decompressed body, a block being built), which the next push then
//! took again page by page: at the default 128 KiB, page faults were 7 % of ingest's CPU
//! (1 GB pushed: 8.39 CPU-s, 7.81 at 64 MiB; peak RSS 54 and 57 MiB). The store trims
//! the arenas itself once flushes pause and every few seconds (`malloc_trim`), so what a query
//! or a flush freed still goes back.

/// Applies the policy; a no-op off glibc, and when the operator set glibc's own
/// `MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_` or `MALLOC_ARENA_MAX` (theirs win).
pub fn tune() {
    if ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
    {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before any thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}
