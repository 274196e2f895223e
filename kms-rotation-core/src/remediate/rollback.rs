//! Rollback: put back the state a journal recorded before each change, only where the key still
//! shows what the run set. A key someone changed since is reported and left alone: their change
//! is newer than ours. Rollback appends its events to the journal, so running it twice changes
//! nothing the second time.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::apply::{RemediationProgress, RemediationProgressFn};
use super::exec::{self, Seen, Verify};
use super::journal::{Event, Journal, JournalEntry, JournalError};
use super::limiter::WriteLimiter;
use super::target::{RemediationTarget, RotationState};
use crate::model::KeyArn;
use crate::policy::RotationPeriod;
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undo {
    pub target_arn: String,
    /// The state before the first change of the run(s) rolled back.
    pub restore: RotationState,
    /// The state the last change set: the key must still show it to be rolled back.
    pub expected: RotationState,
}

/// What the journal says must be undone, key by key in order of first appearance.
///
/// A change is a `before` followed by an `after` of the same run. A `rolled_back` line closes
/// every change of that key before it, so a second rollback finds nothing to do.
pub fn undo_list(entries: &[JournalEntry], only_run: Option<&str>) -> Vec<Undo> {
    #[derive(Default)]
    struct Key {
        /// `before` per run, waiting for its `after`.
        before: BTreeMap<String, RotationState>,
        restore: Option<RotationState>,
        expected: Option<RotationState>,
    }
    let mut order = Vec::new();
    let mut keys: BTreeMap<&str, Key> = BTreeMap::new();
    for entry in entries {
        let key = keys.entry(&entry.target_arn).or_insert_with(|| {
            order.push(entry.target_arn.as_str());
            Key::default()
        });
        let in_scope = only_run.is_none_or(|run| run == entry.run_id);
        match (entry.event, entry.state) {
            (Event::Before, Some(state)) if in_scope => {
                key.before.insert(entry.run_id.clone(), state);
            }
            (Event::After, Some(state)) if in_scope => {
                if let Some(before) = key.before.remove(&entry.run_id) {
                    key.restore.get_or_insert(before);
                    key.expected = Some(state);
                }
            }
            (Event::RolledBack, _) => {
                key.restore = None;
                key.expected = None;
            }
            _ => {}
        }
    }
    order
        .into_iter()
        .filter_map(|arn| {
            let key = keys.remove(arn)?;
            Some(Undo {
                target_arn: arn.to_owned(),
                restore: key.restore?,
                expected: key.expected?,
            })
        })
        .collect()
}

/// The result of one key's rollback. The snake_case names are public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackStatus {
    /// The old state is back (written and seen, or already there).
    RolledBack,
    /// Left alone: the key changed since the run.
    Skipped,
    /// The read or the write failed, or the old state never showed.
    Failed,
    /// Dry run: this key would be written.
    WouldRollBack,
}

/// Reasons in rollback results and journal lines.
pub mod reason {
    /// The key no longer shows what the run set: someone changed it since.
    pub const CHANGED_SINCE: &str = "changed_since";
    /// The key already shows its old state: nothing to write.
    pub const ALREADY_AT_BEFORE_STATE: &str = "already_at_before_state";
}

/// What happened to one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackResult {
    pub target_arn: String,
    pub status: RollbackStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub restore: RotationState,
    /// The last state read.
    pub current: Option<RotationState>,
    pub error: Option<JournalError>,
}

/// What a rollback did, one result per key to undo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackOutcome {
    pub run_id: String,
    pub dry_run: bool,
    pub results: Vec<RollbackResult>,
}

impl RollbackOutcome {
    pub fn count(&self, status: RollbackStatus) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
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

/// Rolls back what `entries` (a journal) say was changed, appending events to `journal`
/// (nothing in a dry run). `Err` only when rollback cannot go on at all.
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
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.map_err(|e| {
            Error::new(
                ErrorKind::Unexpected,
                format!("a rollback task failed: {e}"),
            )
        })?;
        match result {
            Ok(result) => {
                results.push((i, result));
                progress.done += 1;
                if let Some(callback) = &options.progress {
                    callback(progress);
                }
            }
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    if let Some(err) = first_error {
        return Err(err);
    }
    results.sort_by_key(|(i, _)| *i);
    Ok(RollbackOutcome {
        run_id,
        dry_run: options.dry_run,
        results: results.into_iter().map(|(_, r)| r).collect(),
    })
}

struct Shared {
    target: Arc<dyn RemediationTarget>,
    journal: Option<Journal>,
    run_id: String,
    limiter: Arc<WriteLimiter>,
    verify: Verify,
}

/// One key. `Err` only when the journal cannot be written.
async fn undo_one(shared: &Shared, undo: Undo) -> Result<RollbackResult> {
    let arn = undo.target_arn.as_str();
    let journal = shared.journal.as_ref();
    let record = |event, state, error: Option<&Error>, reason: Option<&str>| {
        exec::record(journal, &shared.run_id, arn, event, state, error, reason)
    };
    let result = |status, reason: Option<&str>, current, error: Option<&Error>| RollbackResult {
        target_arn: undo.target_arn.clone(),
        status,
        reason: reason.map(str::to_owned),
        restore: undo.restore,
        current,
        error: error.map(JournalError::from),
    };

    let current = match shared.target.read_rotation(arn).await {
        Ok(state) => state,
        Err(err) => {
            record(Event::RollbackFailed, None, Some(&err), None)?;
            return Ok(result(RollbackStatus::Failed, None, None, Some(&err)));
        }
    };
    if current.shows(&undo.restore) {
        // Recorded as rolled back so that later rollbacks of this journal leave it alone.
        let why = Some(reason::ALREADY_AT_BEFORE_STATE);
        record(Event::RolledBack, Some(current), None, why)?;
        return Ok(result(RollbackStatus::RolledBack, why, Some(current), None));
    }
    if !current.shows(&undo.expected) {
        let why = Some(reason::CHANGED_SINCE);
        record(Event::RollbackSkipped, Some(current), None, why)?;
        return Ok(result(RollbackStatus::Skipped, why, Some(current), None));
    }
    if journal.is_none() {
        return Ok(result(
            RollbackStatus::WouldRollBack,
            None,
            Some(current),
            None,
        ));
    }

    let (account_id, region) = KeyArn::parse(arn)
        .map(|a| (a.account_id.to_owned(), a.region.to_owned()))
        .unwrap_or_default();
    shared.limiter.acquire(&account_id, &region).await;
    let written = match undo.restore.effective_period() {
        None => shared.target.disable_rotation(arn).await,
        Some(days) => {
            // A period the journal did not record is AWS's default, which is what was in force.
            let period = RotationPeriod::new(days).unwrap_or(RotationPeriod::AWS_DEFAULT);
            shared.target.enable_rotation(arn, period).await
        }
    };
    if let Err(err) = written {
        record(Event::RollbackFailed, Some(current), Some(&err), None)?;
        return Ok(result(
            RollbackStatus::Failed,
            None,
            Some(current),
            Some(&err),
        ));
    }
    match exec::await_state(shared.target.as_ref(), arn, &undo.restore, shared.verify).await {
        Seen::Shown(state) => {
            record(Event::RolledBack, Some(state), None, None)?;
            Ok(result(RollbackStatus::RolledBack, None, Some(state), None))
        }
        Seen::NotShown(state, err) => {
            let err = err.unwrap_or_else(|| {
                Error::new(
                    ErrorKind::Unexpected,
                    "the old state never showed after the write",
                )
                .with_code("VerificationFailed")
            });
            record(Event::RollbackFailed, state, Some(&err), None)?;
            Ok(result(RollbackStatus::Failed, None, state, Some(&err)))
        }
    }
}
