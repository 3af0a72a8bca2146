//! Large blocks go back to the system when freed. On a software adapter Mesa allocates every
//! slide texture and swapchain image (8 MB for 1080×1920) with the C allocator. glibc raises
//! its threshold for serving blocks from mapped pages after the first such block is freed,
//! so the next ones come from the heap, where freed blocks stay resident: the player's memory
//! then climbs for minutes as slides come and go before it levels off. A fixed threshold
//! keeps large blocks mapped, and a freed slide leaves at once.

/// Blocks from this size up are mapped and unmapped on their own.
const LARGE_BLOCK: i32 = 1 << 20;

/// Sets the allocator's threshold; call first thing in `main`, before any thread starts.
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; it is called before any other
        // thread exists, with a documented parameter and value.
        #[allow(unsafe_code)]
        let done = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BLOCK) };
        if done != 1 {
            tracing::debug!("the allocator kept its own threshold for large blocks");
        }
    }
}
