//! Rollback: put back the state a journal recorded before each change, only where the key still
//! shows what the run set (or, for a write that was never confirmed, what it found). A key
//! someone changed since, or between two runs, is reported and left alone: their change is newer
//! than ours. A key now out of the write scope is left alone too. Rollback appends its events to
//! the journal, so running it twice changes nothing the second time.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::apply::{RemediationProgress, RemediationProgressFn};
use super::exec::{self, Line, Seen, Verify, write_may_have_applied};
use super::journal::{Event, Journal, JournalEntry, JournalError};
use super::limiter::WriteLimiter;
use super::scope::out_of_scope;
use super::target::{RemediationTarget, RotationState};
use crate::model::KeyArn;
use crate::policy::RotationPeriod;
use crate::wire::wire_names;
use crate::{Error, ErrorKind, Result};

/// Options of [`rollback`].
#[derive(Clone)]
pub struct RollbackOptions {
    /// Undo only this apply run; `None`: every run in the journal.
    pub only_run: Option<String>,
    /// Write calls per second per account and region; 0: no limit. The default stays below
    /// DisableKeyRotation's quota (5/s).
    pub writes_per_second: u32,
    /// Keys in flight at once; at least 1.
    pub concurrency: usize,
    /// How each write is verified: re-reads until the old state shows.
    pub verify: Verify,
    /// Read and report, but write nothing: no write call, no journal line.
    pub dry_run: bool,
    /// The run id of the rollback's own journal lines; a new one when unset.
    pub run_id: Option<String>,
    /// Called after each key finishes (skipped ones included); `total` is the keys to undo.
    pub progress: Option<RemediationProgressFn>,
}

impl std::fmt::Debug for RollbackOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollbackOptions")
            .field("only_run", &self.only_run)
            .field("writes_per_second", &self.writes_per_second)
            .field("concurrency", &self.concurrency)
            .field("verify", &self.verify)
            .field("dry_run", &self.dry_run)
            .field("run_id", &self.run_id)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for RollbackOptions {
    fn default() -> Self {
        RollbackOptions {
            only_run: None,
            writes_per_second: 4,
            concurrency: 4,
            verify: Verify::default(),
            dry_run: false,
            run_id: None,
            progress: None,
        }
    }
}

/// One key to put back, as the journal says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Undo {
    /// The key to put back.
    pub target_arn: String,
    /// The state before the first change of the run(s) rolled back.
    pub restore: RotationState,
    /// The state the last change set: the key must still show it to be rolled back.
    pub expected: RotationState,
    /// The last change was never confirmed: its intent has no `after` (the run was killed), or
    /// its write failed in a way that does not rule out that it landed. Such a key is restored
    /// if it shows `expected`, and left alone if it shows `expected_if_not_applied`.
    #[serde(default)]
    pub possibly_applied: bool,
    /// With `possibly_applied`: what the key shows if that last write never landed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_if_not_applied: Option<RotationState>,
    /// Set when the runs do not chain for this key: a run read a state other than the one the
    /// previous run left (someone changed the key in between). Such a key is left alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_broken: Option<String>,
}

/// One journaled change of a key, in journal order.
#[derive(Debug, Clone)]
struct Change {
    /// The position of its `before` line.
    at: usize,
    run_id: String,
    restore: RotationState,
    expected: RotationState,
    possibly_applied: bool,
}

/// What the journal says must be undone, key by key in order of first appearance.
///
/// A change is a `before` followed by an `after` of the same run. An intent (a `before` with a
/// `target`) that has no `after`, or whose write failed in a way that may still have landed
/// ([`write_may_have_applied`]), is a change that was possibly applied. A `rolled_back` line
/// closes every change of that key before it, so a second rollback finds nothing to do. Across
/// several runs, each run's `before` must show the state the previous run left; where it does
/// not, the undo carries `chain_broken`.
pub fn undo_list(entries: &[JournalEntry], only_run: Option<&str>) -> Vec<Undo> {
    #[derive(Default)]
    struct Key {
        /// Per run: the `before` waiting for its outcome (position, state, target).
        pending: BTreeMap<String, (usize, RotationState, Option<RotationState>)>,
        changes: Vec<Change>,
    }
    fn possibly(
        run_id: &str,
        (at, restore, target): (usize, RotationState, Option<RotationState>),
    ) -> Option<Change> {
        Some(Change {
            at,
            run_id: run_id.to_owned(),
            restore,
            expected: target?,
            possibly_applied: true,
        })
    }
    let mut order = Vec::new();
    let mut keys: BTreeMap<&str, Key> = BTreeMap::new();
    for (at, entry) in entries.iter().enumerate() {
        let key = keys.entry(&entry.target_arn).or_insert_with(|| {
            order.push(entry.target_arn.as_str());
            Key::default()
        });
        let run = entry.run_id.as_str();
        let in_scope = only_run.is_none_or(|only| only == run);
        match (entry.event, entry.state) {
            (Event::RolledBack, _) => *key = Key::default(),
            _ if !in_scope => {}
            (Event::Before, Some(state)) => {
                let earlier = key
                    .pending
                    .insert(run.to_owned(), (at, state, entry.target));
                // A second intent of one run on one key: the first one's write may have landed.
                key.changes.extend(earlier.and_then(|p| possibly(run, p)));
            }
            (Event::After, Some(state)) => {
                if let Some((at, restore, _)) = key.pending.remove(run) {
                    key.changes.push(Change {
                        at,
                        run_id: run.to_owned(),
                        restore,
                        expected: state,
                        possibly_applied: false,
                    });
                }
            }
            (Event::Failed, _) => {
                let ambiguous = entry
                    .error
                    .as_ref()
                    .is_none_or(|e| write_may_have_applied(&e.code));
                if let Some(pending) = key.pending.remove(run)
                    && ambiguous
                {
                    key.changes.extend(possibly(run, pending));
                }
            }
            (Event::Skipped, _) => {
                key.pending.remove(run);
            }
            _ => {}
        }
    }
    order
        .into_iter()
        .filter_map(|arn| {
            let mut key = keys.remove(arn)?;
            // Intents never closed: the run ended (or died) between the intent and its outcome.
            let open = std::mem::take(&mut key.pending);
            for (run, pending) in open {
                key.changes.extend(possibly(&run, pending));
            }
            key.changes.sort_by_key(|c| c.at);
            let (first, last) = (key.changes.first()?, key.changes.last()?);
            Some(Undo {
                target_arn: arn.to_owned(),
                restore: first.restore,
                expected: last.expected,
                possibly_applied: last.possibly_applied,
                expected_if_not_applied: last.possibly_applied.then_some(last.restore),
                chain_broken: chain_break(&key.changes),
            })
        })
        .collect()
}

/// Why consecutive changes of one key do not chain, if they do not: each run must have read what
/// the previous one left (or, when that write was never confirmed, what it found).
fn chain_break(changes: &[Change]) -> Option<String> {
    changes.windows(2).find_map(|pair| {
        let (prev, next) = (&pair[0], &pair[1]);
        let chains = next.restore.shows(&prev.expected)
            || (prev.possibly_applied && next.restore.shows(&prev.restore));
        (!chains).then(|| {
            format!(
                "run {} left {} but run {} read {}: the key was changed in between",
                prev.run_id,
                describe(&prev.expected),
                next.run_id,
                describe(&next.restore)
            )
        })
    })
}

fn describe(state: &RotationState) -> String {
    match state.effective_period() {
        None => "rotation off".to_owned(),
        Some(days) => format!("rotation on, {days} days"),
    }
}

/// The result of one key's rollback. The snake_case names are public API.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RollbackStatus {
    /// The old state is back (written and seen, or already there).
    RolledBack,
    /// Left alone (`reason`): the key changed since the run, the runs do not chain, or it is out
    /// of the write scope now.
    Skipped,
    /// The describe, the read or the write failed, or the old state never showed.
    Failed,
    /// Dry run: this key would be written.
    WouldRollBack,
    /// Not written: the journal could not be written (`reason`).
    NotAttempted,
}
wire_names!(RollbackStatus, "rollback status");

/// Reasons in rollback results and journal lines. A key out of the write scope is skipped with
/// a reason from [`scope_reason`](super::scope_reason).
pub mod reason {
    /// The key no longer shows what the run set: someone changed it since.
    pub const CHANGED_SINCE: &str = "changed_since";
    /// The key already shows its old state: nothing to write.
    pub const ALREADY_AT_BEFORE_STATE: &str = "already_at_before_state";
    /// The journal's runs do not chain for this key: a run read a state other than the one the
    /// previous run left, so someone changed the key in between and the old state is not ours
    /// to restore.
    pub const CHAIN_BROKEN: &str = "chain_broken";
    /// The journal could not be written, so the write was not sent.
    pub const JOURNAL_FAILED: &str = "journal_failed";
}

/// What happened to one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RollbackResult {
    /// The key.
    pub target_arn: String,
    /// What happened.
    pub status: RollbackStatus,
    /// Why it was left alone or not attempted (`changed_since`, `chain_broken`, a scope
    /// reason...), or how it came back (`already_at_before_state`); absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The state being put back: the key's state before the run(s) changed it.
    pub restore: RotationState,
    /// The last state read.
    pub current: Option<RotationState>,
    /// The AWS error of a failed describe, read or write; `None` otherwise.
    pub error: Option<JournalError>,
    /// The change undone was never confirmed by the run that made it (see
    /// [`Undo::possibly_applied`]).
    #[serde(default)]
    pub possibly_applied: bool,
}

/// What a rollback did, one result per key to undo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RollbackOutcome {
    /// The rollback's own run id, on the journal lines it appends.
    pub run_id: String,
    /// True for a dry run: nothing was read from AWS or written.
    pub dry_run: bool,
    /// One result per key to undo, in journal order.
    pub results: Vec<RollbackResult>,
    /// Set when the journal could not be written: no write was sent after that.
    #[serde(default)]
    pub journal_error: Option<String>,
    /// Torn last lines found in the journal (an interrupted run), ignored.
    #[serde(default)]
    pub journal_warnings: Vec<String>,
}

impl RollbackOutcome {
    /// How many keys ended with `status`.
    pub fn count(&self, status: RollbackStatus) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// Every key was rolled back (or, dry run, would be), and the journal took every event.
    pub fn is_success(&self) -> bool {
        self.journal_error.is_none()
            && self.results.iter().all(|r| {
                matches!(
                    r.status,
                    RollbackStatus::RolledBack | RollbackStatus::WouldRollBack
                )
            })
    }

    /// The first key (in journal order) whose rollback failed, as the crate's error: its kind
    /// follows the AWS code ([`ErrorKind::from_aws_code`]), with the key, its region, the
    /// operation and the code as context. `None` when no key has the status `failed`.
    pub fn failure(&self) -> Option<Error> {
        let failed = self
            .results
            .iter()
            .find(|r| r.status == RollbackStatus::Failed)?;
        Some(match &failed.error {
            Some(error) => error.to_error(&failed.target_arn),
            None => Error::new(ErrorKind::Unexpected, "the rollback failed")
                .with_key_arn(failed.target_arn.clone()),
        })
    }
}

/// Rolls back what `entries` (a journal, see [`Journal::read_entries`]) say was changed,
/// appending events to `journal` (nothing in a dry run). `Err` only when rollback cannot start;
/// a journal that fails midway stops further writes and is reported in the outcome.
pub async fn rollback(
    entries: &[JournalEntry],
    target: Arc<dyn RemediationTarget>,
    options: &RollbackOptions,
    journal: &Journal,
) -> Result<RollbackOutcome> {
    if options.concurrency == 0 {
        return Err(Error::invalid_input("must be at least 1").with_field("concurrency"));
    }
    let undos = undo_list(entries, options.only_run.as_deref());
    let mut progress = RemediationProgress {
        done: 0,
        total: undos.len(),
    };
    let run_id = options.run_id.clone().unwrap_or_else(exec::new_run_id);
    let shared = Arc::new(Shared {
        target,
        journal: (!options.dry_run).then(|| journal.clone()),
        run_id: run_id.clone(),
        limiter: WriteLimiter::new(options.writes_per_second),
        verify: options.verify,
    });
    let permits = Arc::new(Semaphore::new(options.concurrency));
    let mut tasks = JoinSet::new();
    for (i, undo) in undos.into_iter().enumerate() {
        let (shared, permits) = (shared.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (i, undo_one(&shared, undo).await)
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.map_err(|e| {
            Error::new(
                ErrorKind::Unexpected,
                format!("a rollback task failed: {e}"),
            )
        })?;
        results.push((i, result));
        progress.done += 1;
        if let Some(callback) = &options.progress {
            callback(progress);
        }
    }
    results.sort_by_key(|(i, _)| *i);
    Ok(RollbackOutcome {
        run_id,
        dry_run: options.dry_run,
        results: results.into_iter().map(|(_, r)| r).collect(),
        journal_error: shared.journal.as_ref().and_then(Journal::failure),
        journal_warnings: journal.warnings(),
    })
}

struct Shared {
    target: Arc<dyn RemediationTarget>,
    journal: Option<Journal>,
    run_id: String,
    limiter: Arc<WriteLimiter>,
    verify: Verify,
}

impl Shared {
    fn journal_failed(&self) -> bool {
        self.journal.as_ref().is_some_and(|j| j.failure().is_some())
    }
}

/// One key. Journal failures are kept by the journal (and stop later writes); a result is
/// always returned.
async fn undo_one(shared: &Shared, undo: Undo) -> RollbackResult {
    let arn = undo.target_arn.as_str();
    // Lines after this key's write, or with no write: a failure stops later writes (see
    // `Shared::journal_failed`), and this key's result stands as it is.
    let record = |event, state, error: Option<&Error>, reason: Option<&str>| {
        let line = Line {
            state,
            error,
            reason,
            ..Line::default()
        };
        let _ = exec::record(shared.journal.as_ref(), &shared.run_id, arn, event, line);
    };
    let result = |status, reason: Option<&str>, current, error: Option<&Error>| RollbackResult {
        target_arn: undo.target_arn.clone(),
        status,
        reason: reason.map(str::to_owned),
        restore: undo.restore,
        current,
        error: error.map(JournalError::from),
        possibly_applied: undo.possibly_applied,
    };
    if shared.journal_failed() {
        let why = Some(reason::JOURNAL_FAILED);
        return result(RollbackStatus::NotAttempted, why, None, None);
    }
    if undo.chain_broken.is_some() {
        let why = Some(reason::CHAIN_BROKEN);
        record(Event::RollbackSkipped, None, None, why);
        return result(RollbackStatus::Skipped, why, None, None);
    }

    let current = match shared.target.read_rotation(arn).await {
        Ok(state) => state,
        Err(err) => {
            record(Event::RollbackFailed, None, Some(&err), None);
            return result(RollbackStatus::Failed, None, None, Some(&err));
        }
    };
    if current.shows(&undo.restore) {
        // Recorded as rolled back so that later rollbacks of this journal leave it alone. For a
        // change that was possibly applied, this is also the case where it never landed.
        let why = Some(reason::ALREADY_AT_BEFORE_STATE);
        record(Event::RolledBack, Some(current), None, why);
        return result(RollbackStatus::RolledBack, why, Some(current), None);
    }
    let as_left = current.shows(&undo.expected)
        || undo
            .expected_if_not_applied
            .is_some_and(|state| current.shows(&state));
    if !as_left {
        let why = Some(reason::CHANGED_SINCE);
        record(Event::RollbackSkipped, Some(current), None, why);
        return result(RollbackStatus::Skipped, why, Some(current), None);
    }
    // The journal is a file too: re-check, on the key as it is now, that it may be written.
    match shared.target.describe_key(arn).await {
        Ok(meta) => {
            if let Some(why) = out_of_scope(&meta) {
                record(Event::RollbackSkipped, Some(current), None, Some(why));
                return result(RollbackStatus::Skipped, Some(why), Some(current), None);
            }
        }
        Err(err) => {
            record(Event::RollbackFailed, Some(current), Some(&err), None);
            return result(RollbackStatus::Failed, None, Some(current), Some(&err));
        }
    }
    if shared.journal.is_none() {
        return result(RollbackStatus::WouldRollBack, None, Some(current), None);
    }

    let (account_id, region) = KeyArn::parse(arn)
        .map(|a| (a.account_id.to_owned(), a.region.to_owned()))
        .unwrap_or_default();
    shared.limiter.acquire(&account_id, &region).await;
    if shared.journal_failed() {
        let why = Some(reason::JOURNAL_FAILED);
        return result(RollbackStatus::NotAttempted, why, Some(current), None);
    }
    let written = match undo.restore.effective_period() {
        None => shared.target.disable_rotation(arn).await,
        Some(days) => {
            // A period the journal did not record is AWS's default, which is what was in force.
            let period = RotationPeriod::new(days).unwrap_or(RotationPeriod::AWS_DEFAULT);
            shared.target.enable_rotation(arn, period).await
        }
    };
    if let Err(err) = written {
        tracing::info!(key = arn, region = %region, before = ?current, after = ?undo.restore,
            error = %err, "rollback: write failed");
        record(Event::RollbackFailed, Some(current), Some(&err), None);
        return result(RollbackStatus::Failed, None, Some(current), Some(&err));
    }
    tracing::info!(key = arn, region = %region, before = ?current, after = ?undo.restore,
        "rollback: written");
    match exec::await_state(shared.target.as_ref(), arn, &undo.restore, shared.verify).await {
        Seen::Shown(state) => {
            record(Event::RolledBack, Some(state), None, None);
            result(RollbackStatus::RolledBack, None, Some(state), None)
        }
        Seen::NotShown(state, err) => {
            let err = err.unwrap_or_else(|| {
                Error::new(
                    ErrorKind::Unexpected,
                    "the old state never showed after the write",
                )
                .with_code("VerificationFailed")
            });
            record(Event::RollbackFailed, state, Some(&err), None);
            result(RollbackStatus::Failed, None, state, Some(&err))
        }
    }
}
