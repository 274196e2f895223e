//! `apply`: carry out a plan, journaled and verified; a dry run unless `dry_run: false`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::scan::under;
use super::with_aws_options;
use crate::remediate::{
    self, ActionResult, ActionStatus, ApplyOutcome, Journal, Plan, RemediationProgressFn,
    RemediationTarget, Verify,
};
use crate::{Error, Result};

with_aws_options! {
    /// Options of [`apply`]. One of `plan` and `plan_file` is the plan. The AWS options say how
    /// to reach AWS; each key's account gets its role.
    #[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
    #[serde(default, deny_unknown_fields)]
    pub struct ApplyOptions {
        /// The plan (a `plan`'s result), checked completely.
        pub plan: Option<Plan>,
        /// A plan file (JSON, or YAML by extension), checked completely.
        #[serde(alias = "planFile")]
        pub plan_file: Option<PathBuf>,
        /// Only these batches of the plan (1-based), so that a rollout can go batch by batch
        /// with a re-scan in between; empty: every batch. A batch the plan does not have is an
        /// error.
        pub batches: Vec<usize>,
        /// The journal file every step is appended to (NDJSON), locked for the run: what
        /// `rollback` reads. Required to write; a dry run neither creates nor opens it.
        pub journal: Option<PathBuf>,
        /// `true` (the default): call nothing and write nothing, and say what would be done.
        /// Only `false` changes keys.
        #[serde(alias = "dryRun")]
        pub dry_run: bool = true,
        /// Write calls per second per account and region; 0: no limit.
        #[serde(alias = "writesPerSecond")]
        pub writes_per_second: u32 = engine_defaults().writes_per_second,
        /// Keys changed at once, at least 1.
        pub concurrency: usize = engine_defaults().concurrency,
        /// Stop after this many failures in a row; 0: never.
        #[serde(alias = "maxConsecutiveFailures")]
        pub max_consecutive_failures: usize = engine_defaults().max_consecutive_failures,
        /// Reads after each write until the change shows, at least 1.
        #[serde(alias = "verifyAttempts")]
        pub verify_attempts: u32 = engine_defaults().verify.attempts,
        /// Pause between those reads, in milliseconds.
        #[serde(alias = "verifyDelayMs")]
        pub verify_delay_ms: u64 = millis(engine_defaults().verify.delay),
        /// The run id written to the journal; a new one (a UUID v7) when absent.
        #[serde(alias = "runId")]
        pub run_id: Option<String>,
        /// Fail with the first failed action's error instead of returning the outcome.
        #[serde(alias = "errorOnFailure")]
        pub error_on_failure: bool,
    }
}

/// The defaults of the engine these options drive.
fn engine_defaults() -> remediate::ApplyOptions {
    remediate::ApplyOptions::default()
}

pub(super) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl ApplyOptions {
    /// The plan, read or given, checked completely, with only the actions of `batches`.
    pub fn load_plan(&self) -> Result<Plan> {
        let mut plan = self.whole_plan()?;
        if self.batches.is_empty() {
            return Ok(plan);
        }
        let last = plan.batches();
        for (i, &batch) in self.batches.iter().enumerate() {
            if batch == 0 || batch > last {
                return Err(Error::invalid_input(format!(
                    "the plan has no batch {batch}: its batches are 1 to {last}"
                ))
                .with_field(format!("batches[{i}]")));
            }
        }
        plan.actions.retain(|a| self.batches.contains(&a.batch));
        Ok(plan)
    }

    fn whole_plan(&self) -> Result<Plan> {
        match (&self.plan, &self.plan_file) {
            (Some(plan), None) => {
                plan.validate().map_err(|e| under("plan", e))?;
                Ok(plan.clone())
            }
            (None, Some(path)) => Plan::from_file(path),
            (None, None) => {
                Err(Error::invalid_input("no plan: give a plan or a plan file").with_field("plan"))
            }
            (Some(_), Some(_)) => Err(Error::invalid_input("give a plan or a plan file, not both")
                .with_field("plan_file")),
        }
    }

    fn engine(&self, progress: Option<RemediationProgressFn>) -> Result<remediate::ApplyOptions> {
        let options = remediate::ApplyOptions {
            writes_per_second: self.writes_per_second,
            concurrency: self.concurrency,
            max_consecutive_failures: self.max_consecutive_failures,
            verify: Verify {
                attempts: self.verify_attempts,
                delay: Duration::from_millis(self.verify_delay_ms),
            },
            dry_run: self.dry_run,
            run_id: self.run_id.clone(),
            progress,
        };
        options.validate()?;
        Ok(options)
    }
}

/// Applies the plan `options` name.
///
/// A dry run (the default) checks everything, then calls nothing and writes nothing: every
/// action comes back `would_remediate`, and is reported to `progress` as a real run reports it. A real run needs a journal, which is locked before any
/// call; it connects where the plan points (its regions, each key's account through its role),
/// describes each key and refuses those out of the write scope, journals each write's intent
/// before sending it, and verifies it.
pub async fn apply(
    options: ApplyOptions,
    progress: Option<RemediationProgressFn>,
) -> Result<ApplyOutcome> {
    run(options, progress, None).await
}

/// [`apply`] against a target of the caller's (a `MemoryTarget`, another account setup)
/// instead of connecting to AWS with the options.
pub async fn apply_to(
    options: ApplyOptions,
    target: Arc<dyn RemediationTarget>,
    progress: Option<RemediationProgressFn>,
) -> Result<ApplyOutcome> {
    run(options, progress, Some(target)).await
}

async fn run(
    options: ApplyOptions,
    progress: Option<RemediationProgressFn>,
    target: Option<Arc<dyn RemediationTarget>>,
) -> Result<ApplyOutcome> {
    super::refuse_organization(&options.aws_options(Vec::new()))?;
    let plan = options.load_plan()?;
    let engine = options.engine(progress)?;
    let outcome = if options.dry_run {
        preview(&plan, &engine)
    } else {
        let path = options.journal.as_ref().ok_or_else(|| {
            Error::invalid_input(
                "a journal file is required to change keys (it is what rollback reads); a dry \
                 run needs none",
            )
            .with_field("journal")
        })?;
        // Locked before any call: a second run on this journal stops here.
        let journal = Journal::open(path)?;
        let target = match target {
            Some(target) => target,
            None => {
                let regions = plan.actions.iter().map(|a| a.region.clone()).collect();
                super::connect(options.aws_options(regions)).await?
            }
        };
        remediate::apply(&plan, target, &engine, &journal).await?
    };
    match outcome.failure() {
        Some(err) if options.error_on_failure => Err(err),
        _ => Ok(outcome),
    }
}

/// What a run would do, without a call: every action `would_remediate`, each reported to the
/// progress callback as a real run reports it.
fn preview(plan: &Plan, engine: &remediate::ApplyOptions) -> ApplyOutcome {
    super::preview_progress(engine.progress.as_ref(), plan.actions.len());
    ApplyOutcome {
        run_id: engine.run_id.clone().unwrap_or_else(remediate::new_run_id),
        dry_run: true,
        results: plan
            .actions
            .iter()
            .map(|action| ActionResult {
                target_arn: action.target_arn.clone(),
                region: action.region.clone(),
                account_id: action.account_id.clone(),
                status: ActionStatus::WouldRemediate,
                reason: None,
                before: None,
                after: None,
                error: None,
            })
            .collect(),
        stopped: None,
        journal_error: None,
        journal_warnings: Vec::new(),
    }
}
