//! Whether a process still runs, for tests that check nothing outlives what they stopped.

/// True while process `pid` exists and is not a zombie (one that has exited but whose
/// adoptive parent has not reaped it yet counts as gone). Linux only (`/proc`).
pub fn is_running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(stat.rsplit(')').next()?.split_whitespace().next()? != "Z"))
        .unwrap_or(false)
}
