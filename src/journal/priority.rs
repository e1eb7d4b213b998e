//! The journal's threads run at background priority.

/// The journal's threads yield the CPU to the socket, the store and the window when they compete
/// for it (at full speed on two cores, they do): the queue in between absorbs the difference, and
/// a journal behind by a moment costs nothing.
#[cfg(target_os = "linux")]
#[allow(
    unsafe_code,
    reason = "setpriority has no safe wrapper; it only lowers this thread's nice value"
)]
pub(super) fn background_priority() {
    // SAFETY: setpriority takes plain integers; on Linux `PRIO_PROCESS` with `who` 0 is the
    // calling thread. Failing (it cannot, lowering is always allowed) leaves the priority as it was.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

#[cfg(not(target_os = "linux"))]
pub(super) fn background_priority() {}
