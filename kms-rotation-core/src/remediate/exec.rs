//! What apply and rollback share: run ids, journal lines, and the bounded wait for a change to
//! show (KMS is eventually consistent: a read right after a write may show the old state).

use std::time::Duration;

use chrono::Utc;

use super::journal::{Event, Journal, JournalEntry, JournalError, kind_of};
use super::target::{RemediationTarget, RotationState};
use crate::{Error, ErrorKind, Result};

/// A run id: a UUID v7, which sorts by time and is unique within a process (and, with its 74
/// random bits, across processes started in the same millisecond).
pub fn new_run_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether a write that failed with `code` (an AWS code, or one of the crate's codes for calls
/// that got no reply: `TimeoutError`, `DispatchFailure`, `ResponseError`) may still have been
/// applied. The one place this is decided: apply journals the failure with its code, and rollback
/// treats such a failure like an intent without `after`.
///
/// Only a refusal for what the request was (the key, the caller, the input, or a request that
/// was never built: the kinds `AccessDenied`, `NotFound`, `InvalidKeyState`, `Unsupported`,
/// `InvalidInput`) rules the write out. Anything else, throttling included (the SDK
/// retries it, and an earlier attempt may have timed out after landing), says nothing about
/// what the service did.
pub fn write_may_have_applied(code: &str) -> bool {
    !matches!(
        kind_of(code),
        ErrorKind::AccessDenied
            | ErrorKind::NotFound
            | ErrorKind::InvalidKeyState
            | ErrorKind::Unsupported
            | ErrorKind::InvalidInput
    )
}

/// One journal line, if there is a journal (dry runs have none).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Line<'a> {
    pub state: Option<RotationState>,
    pub target: Option<RotationState>,
    pub error: Option<&'a Error>,
    pub reason: Option<&'a str>,
}

/// Writes one event, if there is a journal (dry runs have none).
pub(crate) fn record(
    journal: Option<&Journal>,
    run_id: &str,
    arn: &str,
    event: Event,
    line: Line<'_>,
) -> Result<()> {
    let Some(journal) = journal else {
        return Ok(());
    };
    journal.record(&JournalEntry {
        at: Utc::now(),
        run_id: run_id.to_owned(),
        target_arn: arn.to_owned(),
        event,
        state: line.state,
        target: line.target,
        error: line.error.map(JournalError::from),
        reason: line.reason.map(str::to_owned),
    })
}

/// How long to wait for a change to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verify {
    /// Reads after the write, at least 1.
    pub attempts: u32,
    /// Pause between reads.
    pub delay: Duration,
}

impl Default for Verify {
    fn default() -> Self {
        Verify {
            attempts: 10,
            delay: Duration::from_secs(1),
        }
    }
}

/// What the re-reads saw.
pub(crate) enum Seen {
    /// A read showed `wanted`.
    Shown(RotationState),
    /// None did; the last state read, or the last read's error when no read succeeded.
    NotShown(Option<RotationState>, Option<Error>),
}

/// Re-reads `arn` until it shows `wanted`, at most `verify.attempts` times.
pub(crate) async fn await_state(
    target: &dyn RemediationTarget,
    arn: &str,
    wanted: &RotationState,
    verify: Verify,
) -> Seen {
    let mut last_state = None;
    let mut last_error = None;
    for attempt in 0..verify.attempts.max(1) {
        if attempt > 0 {
            tokio::time::sleep(verify.delay).await;
        }
        match target.read_rotation(arn).await {
            Ok(state) if state.shows(wanted) => return Seen::Shown(state),
            Ok(state) => last_state = Some(state),
            // Right after a write KMS may briefly answer NotFound or InvalidState: keep reading.
            Err(err) => last_error = Some(err),
        }
    }
    Seen::NotShown(last_state, last_error)
}
