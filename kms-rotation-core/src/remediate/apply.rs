//! Applying a plan: for each action, describe the target and refuse it unless it is in the write
//! scope ([`out_of_scope`](super::out_of_scope)), read its rotation, and when a write is needed,
//! journal the intent (state and target), write, journal `after`, then re-read until the change
//! shows. Writes are rate-limited per account and region, a bounded number run at once, one key's
//! failure never stops the others, and a run of consecutive failures (wrong credentials, a deny
//! policy) or a journal that cannot be written stops the whole run early.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::exec::{self, Line, Seen, Verify};
use super::journal::{Event, Journal, JournalError};
use super::limiter::WriteLimiter;
use super::plan::{Action, Plan};
use super::scope::out_of_scope;
use super::target::{RemediationTarget, RotationState};
use crate::policy::RotationPeriod;
use crate::wire::wire_names;
use crate::{Error, ErrorKind, Result};

/// Progress of an [`apply`] or a [`rollback`](super::rollback()) run (cumulative counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RemediationProgress {
    /// Actions (keys, for a rollback) finished so far, whatever their result.
    pub done: usize,
    /// Actions in the plan (keys to undo, for a rollback).
    pub total: usize,
}

/// A progress callback of [`apply`] and [`rollback`](super::rollback()): called once after each
/// action finishes, in order of `done`, from the run's task. Keep it quick. The dry runs of
/// [`ops::apply`](crate::ops::apply()) and [`ops::rollback`](crate::ops::rollback()) call it
/// the same way, once per previewed action.
pub type RemediationProgressFn = Arc<dyn Fn(RemediationProgress) + Send + Sync>;

/// Options of [`apply`].
#[derive(Clone)]
pub struct ApplyOptions {
    /// Write calls per second per account and region; 0: no limit. The default stays below
    /// EnableKeyRotation's quota (15/s), which the account's other callers share.
    pub writes_per_second: u32,
    /// Actions in flight at once; at least 1.
    pub concurrency: usize,
    /// Stop after this many failures in a row (`failed` or `verification_failed`); 0: never.
    pub max_consecutive_failures: usize,
    /// How each write is verified: re-reads until the change shows.
    pub verify: Verify,
    /// Describe, read and report, but write nothing: no write call, no journal line.
    pub dry_run: bool,
    /// The run id in the journal; a new one (a UUID v7) when unset.
    pub run_id: Option<String>,
    /// Called after each action finishes (skipped and not attempted ones included).
    pub progress: Option<RemediationProgressFn>,
}

impl std::fmt::Debug for ApplyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("writes_per_second", &self.writes_per_second)
            .field("concurrency", &self.concurrency)
            .field("max_consecutive_failures", &self.max_consecutive_failures)
            .field("verify", &self.verify)
            .field("dry_run", &self.dry_run)
            .field("run_id", &self.run_id)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            writes_per_second: 10,
            concurrency: 8,
            max_consecutive_failures: 5,
            verify: Verify::default(),
            dry_run: false,
            run_id: None,
            progress: None,
        }
    }
}

impl ApplyOptions {
    /// Checks the options (a concurrency and verify attempts of at least 1); the error names the
    /// field.
    pub fn validate(&self) -> Result<()> {
        if self.concurrency == 0 {
            return Err(Error::invalid_input("must be at least 1").with_field("concurrency"));
        }
        if self.verify.attempts == 0 {
            return Err(Error::invalid_input("must be at least 1").with_field("verify.attempts"));
        }
        Ok(())
    }
}

/// The result of one action. The snake_case names are public API.
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
pub enum ActionStatus {
    /// Written and seen.
    Remediated,
    /// Written, but the re-reads never showed it.
    VerificationFailed,
    /// The describe, the read or the write failed (`error` has the code).
    Failed,
    /// No write: none was needed, or the key is out of the write scope (`reason` says which).
    Skipped,
    /// Dry run: this action would write.
    WouldRemediate,
    /// Not written: the run stopped first (circuit breaker, journal failure; `reason`).
    NotAttempted,
}
wire_names!(ActionStatus, "action status");

/// Reasons for `skipped` and `not_attempted`. A key out of the write scope is `skipped` with a
/// reason from [`scope_reason`](super::scope_reason).
pub mod skip {
    /// Rotation is on with the target period already.
    pub const ALREADY_AT_TARGET: &str = "already_at_target";
    /// Rotation is on with a period the policy accepts (shorter than the target, say): writing
    /// the target would loosen it.
    pub const ALREADY_COMPLIANT: &str = "already_compliant";
    /// The circuit breaker stopped the run before this action.
    pub const CIRCUIT_BREAKER: &str = "circuit_breaker";
    /// The journal could not be written, so the write was not sent (no record, no write).
    pub const JOURNAL_FAILED: &str = "journal_failed";
    /// On a `failed` result: the write failed in a way that does not rule out that it landed (a
    /// timeout, a lost reply: [`write_may_have_applied`](crate::remediate::write_may_have_applied)).
    /// Rollback treats it as possibly applied.
    pub const WRITE_OUTCOME_UNKNOWN: &str = "write_outcome_unknown";
}

/// What happened to one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ActionResult {
    /// The key the action wrote to (or would have).
    pub target_arn: String,
    /// The key's region.
    pub region: String,
    /// The key's account.
    pub account_id: String,
    /// What happened.
    pub status: ActionStatus,
    /// Why it was skipped, not attempted, or failed as it did (`already_at_target`,
    /// `circuit_breaker`, `write_outcome_unknown`, a scope reason...); absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The state read before acting.
    pub before: Option<RotationState>,
    /// The last state read after the write.
    pub after: Option<RotationState>,
    /// The AWS error of a failed describe, read or write (or the last failed re-read); `None`
    /// otherwise.
    pub error: Option<JournalError>,
}

impl ActionResult {
    fn new(action: &Action, status: ActionStatus) -> Self {
        ActionResult {
            target_arn: action.target_arn.clone(),
            region: action.region.clone(),
            account_id: action.account_id.clone(),
            status,
            reason: None,
            before: None,
            after: None,
            error: None,
        }
    }

    fn because(mut self, reason: &str) -> Self {
        self.reason = Some(reason.to_owned());
        self
    }
}

/// What a run did: one result per action, in plan order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ApplyOutcome {
    /// The run's id (a UUID v7 unless given); every journal line of the run carries it.
    pub run_id: String,
    /// True for a dry run: nothing was written.
    pub dry_run: bool,
    /// One result per action, in plan order.
    pub results: Vec<ActionResult>,
    /// Set when the run stopped early, saying why (circuit breaker, journal failure).
    pub stopped: Option<String>,
    /// Set when the journal could not be written: the run stopped sending writes there. Writes
    /// sent before are covered by their journaled intent.
    #[serde(default)]
    pub journal_error: Option<String>,
    /// Torn lines an interrupted earlier run left in the journal (removed before appending).
    #[serde(default)]
    pub journal_warnings: Vec<String>,
}

impl ApplyOutcome {
    /// How many actions ended with `status`.
    pub fn count(&self, status: ActionStatus) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// The first action (in plan order) that failed, as the crate's error: its kind follows the
    /// AWS code ([`ErrorKind::from_aws_code`]), with the key, its region, the operation and the
    /// code as context. `None` when no action has the status `failed`. For callers who want a
    /// per-key failure raised rather than read from [`results`](Self::results).
    pub fn failure(&self) -> Option<Error> {
        let failed = self
            .results
            .iter()
            .find(|r| r.status == ActionStatus::Failed)?;
        Some(match &failed.error {
            Some(error) => error.to_error(&failed.target_arn),
            None => Error::new(ErrorKind::Unexpected, "the action failed")
                .with_key_arn(failed.target_arn.clone())
                .with_region(failed.region.clone()),
        })
    }

    /// Every action is remediated, skipped or (dry run) would be remediated, and the journal
    /// took every event.
    pub fn is_success(&self) -> bool {
        self.stopped.is_none()
            && self.journal_error.is_none()
            && self.results.iter().all(|r| {
                matches!(
                    r.status,
                    ActionStatus::Remediated | ActionStatus::Skipped | ActionStatus::WouldRemediate
                )
            })
    }
}

/// Counts failures in a row across concurrent actions.
#[derive(Debug, Default)]
struct Breaker {
    limit: usize,
    state: Mutex<(usize, Option<String>)>,
}

impl Breaker {
    fn tripped(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .is_some()
    }

    fn record(&self, status: ActionStatus) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match status {
            ActionStatus::Failed | ActionStatus::VerificationFailed => {
                state.0 += 1;
                if self.limit > 0 && state.0 >= self.limit && state.1.is_none() {
                    state.1 = Some(format!(
                        "circuit breaker: stopped after {} consecutive failures",
                        state.0
                    ));
                }
            }
            ActionStatus::Remediated => state.0 = 0,
            _ => {}
        }
    }

    fn reason(&self) -> Option<String> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }
}

struct Run {
    target: Arc<dyn RemediationTarget>,
    journal: Option<Journal>,
    run_id: String,
    limiter: Arc<WriteLimiter>,
    breaker: Breaker,
    verify: Verify,
    max_period: RotationPeriod,
}

impl Run {
    /// Journals one event of `arn`. A failure is kept by the journal (see [`Journal::failure`]),
    /// which stops the run: `Err` tells callers about to write not to.
    fn record(&self, arn: &str, event: Event, line: Line<'_>) -> Result<()> {
        exec::record(self.journal.as_ref(), &self.run_id, arn, event, line)
    }

    fn journal_failed(&self) -> bool {
        self.journal.as_ref().is_some_and(|j| j.failure().is_some())
    }
}

/// Applies `plan` to `target`, journaling every step to `journal` (nothing in a dry run).
///
/// Batches run in order; within one, up to `options.concurrency` actions at once. `Err` means
/// the run could not start (invalid plan or options). Everything after that is in the outcome:
/// per-key failures are results, and a journal that fails mid-run stops the run (no write is
/// sent without its intent on disk) with `journal_error` and `stopped` set.
pub async fn apply(
    plan: &Plan,
    target: Arc<dyn RemediationTarget>,
    options: &ApplyOptions,
    journal: &Journal,
) -> Result<ApplyOutcome> {
    plan.validate()?;
    options.validate()?;
    let run = Arc::new(Run {
        target,
        journal: (!options.dry_run).then(|| journal.clone()),
        run_id: options.run_id.clone().unwrap_or_else(exec::new_run_id),
        limiter: WriteLimiter::new(options.writes_per_second),
        breaker: Breaker {
            limit: options.max_consecutive_failures,
            state: Mutex::default(),
        },
        verify: options.verify,
        max_period: plan.policy.max_rotation_period_days,
    });
    let permits = Arc::new(Semaphore::new(options.concurrency));
    let mut results: Vec<Option<ActionResult>> = vec![None; plan.actions.len()];
    let mut progress = RemediationProgress {
        done: 0,
        total: plan.actions.len(),
    };

    let mut start = 0;
    while start < plan.actions.len() {
        let batch = plan.actions[start].batch;
        let end = plan.actions[start..]
            .iter()
            .position(|a| a.batch != batch)
            .map_or(plan.actions.len(), |n| start + n);
        let mut tasks = JoinSet::new();
        for (i, action) in plan.actions.iter().enumerate().take(end).skip(start) {
            let (run, permits, action) = (run.clone(), permits.clone(), action.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let result = apply_one(&run, &action).await;
                // Recorded before the permit is released, so the next action sees this one.
                run.breaker.record(result.status);
                (i, result)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (i, result) = joined.map_err(|e| {
                Error::new(ErrorKind::Unexpected, format!("an apply task failed: {e}"))
            })?;
            results[i] = Some(result);
            // Called here, not in the tasks, so that `done` reaches the callback in order.
            progress.done += 1;
            if let Some(callback) = &options.progress {
                callback(progress);
            }
        }
        start = end;
    }

    let journal_error = run.journal.as_ref().and_then(Journal::failure);
    let stop_reason = if journal_error.is_some() {
        skip::JOURNAL_FAILED
    } else {
        skip::CIRCUIT_BREAKER
    };
    let results = results
        .into_iter()
        .zip(&plan.actions)
        .map(|(result, action)| {
            result.unwrap_or_else(|| {
                ActionResult::new(action, ActionStatus::NotAttempted).because(stop_reason)
            })
        })
        .collect();
    let stopped = match &journal_error {
        Some(err) => Some(format!(
            "the journal could not be written ({err}); the run stopped: no write is sent \
             without its intent on disk"
        )),
        None => run.breaker.reason(),
    };
    Ok(ApplyOutcome {
        run_id: run.run_id.clone(),
        dry_run: options.dry_run,
        results,
        stopped,
        journal_error,
        journal_warnings: journal.warnings(),
    })
}

/// One action, start to end. Journal failures are kept by the journal and end the action before
/// its write; a result is always returned.
async fn apply_one(run: &Run, action: &Action) -> ActionResult {
    let stopped = |reason| ActionResult::new(action, ActionStatus::NotAttempted).because(reason);
    if run.journal_failed() {
        return stopped(skip::JOURNAL_FAILED);
    }
    if run.breaker.tripped() {
        return stopped(skip::CIRCUIT_BREAKER);
    }
    let arn = action.target_arn.as_str();
    let failed = |err: &Error, before| {
        // A line that cannot be written stops the run (see `Run::record`); this key's result
        // stands as it is (after a failed write, its intent is already on disk).
        let _ = run.record(
            arn,
            Event::Failed,
            Line {
                error: Some(err),
                ..Line::default()
            },
        );
        ActionResult {
            before,
            error: Some(JournalError::from(err)),
            ..ActionResult::new(action, ActionStatus::Failed)
        }
    };

    // The plan is a file: re-check, on the key as it is now, that it may be written at all.
    match run.target.describe_key(arn).await {
        Ok(meta) => {
            if let Some(reason) = out_of_scope(&meta) {
                let _ = run.record(
                    arn,
                    Event::Skipped,
                    Line {
                        reason: Some(reason),
                        ..Line::default()
                    },
                );
                return ActionResult::new(action, ActionStatus::Skipped).because(reason);
            }
        }
        Err(err) => return failed(&err, None),
    }
    let before = match run.target.read_rotation(arn).await {
        Ok(state) => state,
        Err(err) => return failed(&err, None),
    };
    let wanted = RotationState::enabled(action.rotation_period_days);
    let already = if before.shows(&wanted) {
        Some(skip::ALREADY_AT_TARGET)
    } else if before
        .effective_period()
        .is_some_and(|days| days <= run.max_period.days())
    {
        Some(skip::ALREADY_COMPLIANT)
    } else {
        None
    };
    if let Some(reason) = already {
        let _ = run
            .record(
                arn,
                Event::Before,
                Line {
                    state: Some(before),
                    ..Line::default()
                },
            )
            .and_then(|()| {
                run.record(
                    arn,
                    Event::Skipped,
                    Line {
                        state: Some(before),
                        reason: Some(reason),
                        ..Line::default()
                    },
                )
            });
        return ActionResult {
            before: Some(before),
            ..ActionResult::new(action, ActionStatus::Skipped).because(reason)
        };
    }
    if run.journal.is_none() {
        return ActionResult {
            before: Some(before),
            ..ActionResult::new(action, ActionStatus::WouldRemediate)
        };
    }

    run.limiter
        .acquire(&action.account_id, &action.region)
        .await;
    // Checked again after the wait: failures recorded meanwhile stop writes not yet sent.
    let stop = if run.journal_failed() {
        Some(skip::JOURNAL_FAILED)
    } else if run.breaker.tripped() {
        Some(skip::CIRCUIT_BREAKER)
    } else {
        None
    };
    if let Some(reason) = stop {
        return ActionResult {
            before: Some(before),
            ..stopped(reason)
        };
    }
    // The intent, on disk before the write is sent: if the run dies before `after`, rollback
    // still knows what this write may have changed.
    let intent = Line {
        state: Some(before),
        target: Some(wanted),
        ..Line::default()
    };
    if run.record(arn, Event::Before, intent).is_err() {
        return ActionResult {
            before: Some(before),
            ..stopped(skip::JOURNAL_FAILED)
        };
    }
    if let Err(err) = run
        .target
        .enable_rotation(arn, action.rotation_period_days)
        .await
    {
        tracing::info!(key = arn, region = %action.region, before = ?before, after = ?wanted,
            error = %err, "apply: EnableKeyRotation failed");
        // Rollback decides from the journaled code whether it may have landed; the result says
        // so too.
        let result = failed(&err, Some(before));
        let code = result.error.as_ref().map_or("", |e| e.code.as_str());
        return if exec::write_may_have_applied(code) {
            result.because(skip::WRITE_OUTCOME_UNKNOWN)
        } else {
            result
        };
    }
    tracing::info!(key = arn, region = %action.region, before = ?before, after = ?wanted,
        "apply: EnableKeyRotation");
    // From here on the write is done: a journal failure no longer changes this key's result
    // (the intent covers it for rollback).
    let _ = run.record(
        arn,
        Event::After,
        Line {
            state: Some(wanted),
            ..Line::default()
        },
    );

    match exec::await_state(run.target.as_ref(), arn, &wanted, run.verify).await {
        Seen::Shown(state) => {
            let _ = run.record(
                arn,
                Event::Verified,
                Line {
                    state: Some(state),
                    ..Line::default()
                },
            );
            ActionResult {
                before: Some(before),
                after: Some(state),
                ..ActionResult::new(action, ActionStatus::Remediated)
            }
        }
        Seen::NotShown(state, err) => {
            let _ = run.record(
                arn,
                Event::VerificationFailed,
                Line {
                    state,
                    error: err.as_ref(),
                    ..Line::default()
                },
            );
            ActionResult {
                before: Some(before),
                after: state,
                error: err.as_ref().map(JournalError::from),
                ..ActionResult::new(action, ActionStatus::VerificationFailed)
            }
        }
    }
}
