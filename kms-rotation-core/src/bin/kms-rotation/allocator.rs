//! The command's allocator: mimalloc, giving freed memory back within milliseconds.

use std::ffi::c_long;

use libmimalloc_sys::{mi_option_set, mi_option_t};

/// A scan makes millions of small allocations (each call's request, headers, reply and records):
/// with the system allocator they took a quarter of the command's CPU per call
/// (BENCHMARKS.md, "Organisation scale").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_t` (mimalloc.h), which libmimalloc-sys
/// does not name; the test below fails if a new version renumbers it.
const PURGE_DELAY: mi_option_t = 15;

/// How long freed memory is held before it goes back to the system: mimalloc v2's default.
const PURGE_DELAY_MS: c_long = 10;

/// mimalloc v3 holds freed memory for a second (its purge delay) before giving it back. The end
/// of a scan frees large lists (the records once they are findings, the read's buffers) and
/// allocates others within that second, so what it held added 20 to 65 MB to the peak of the
/// memory benchmark (BENCHMARKS.md, "Memory"); 10 ms is long enough for the memory a call frees
/// to serve the next call. A delay set in the environment (`MIMALLOC_PURGE_DELAY`, or its old
/// name `MIMALLOC_RESET_DELAY`) is the user's and stands. Called first in `main`, before any
/// other thread exists: mimalloc's options are not meant to change under running threads.
pub(crate) fn return_freed_memory_soon() {
    if !delay_set_by_environment() {
        set_purge_delay(PURGE_DELAY_MS);
    }
}

fn delay_set_by_environment() -> bool {
    ["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some())
}

#[allow(unsafe_code)]
fn set_purge_delay(milliseconds: c_long) {
    // SAFETY: plain integers in, nothing out: mimalloc stores the value in its option table.
    unsafe { mi_option_set(PURGE_DELAY, milliseconds) }
}

#[cfg(test)]
mod tests {
    use libmimalloc_sys::mi_option_get;

    use super::*;

    /// The purge delay as mimalloc reads it, in milliseconds.
    #[allow(unsafe_code)]
    fn purge_delay() -> c_long {
        // SAFETY: an integer in, an integer out: a read of mimalloc's option table.
        unsafe { mi_option_get(PURGE_DELAY) }
    }

    #[test]
    fn the_option_set_is_the_purge_delay() {
        // v3's default purge delay, 1,000 ms, and no other option's default: read through the
        // same number, a renumbered option table would show another value.
        if !delay_set_by_environment() {
            assert_eq!(purge_delay(), 1000);
        }
        set_purge_delay(PURGE_DELAY_MS);
        assert_eq!(purge_delay(), PURGE_DELAY_MS);
    }
}
