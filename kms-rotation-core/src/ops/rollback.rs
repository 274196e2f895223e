//! `rollback`: undo what a journal says a run changed; a dry run unless `dry_run: false`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::apply::millis;
use super::with_aws_options;
use crate::model::KeyArn;
use crate::remediate::{
    self, Journal, RemediationProgressFn, RemediationTarget, RollbackOutcome, RollbackResult,
    RollbackStatus, Undo, Verify, reason, undo_list,
};
use crate::{Error, Result};

with_aws_options! {
    /// Options of [`rollback`]. The AWS options say how to reach AWS; each key's account gets
    /// its role.
    #[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
    #[serde(default, deny_unknown_fields)]
    pub struct RollbackOptions {
        /// The journal an apply wrote. Rollback appends its own events to it (so a second
        /// rollback changes nothing), holding its lock for the run; a dry run only reads it.
        pub journal: Option<PathBuf>,
        /// `true` (the default): call nothing and write nothing, and say what would be undone.
        /// Only `false` changes keys.
        #[serde(alias = "dryRun")]
        pub dry_run: bool = true,
        /// Undo only this apply run (its `run_id`); every run in the journal when absent.
        #[serde(alias = "onlyRun")]
        pub only_run: Option<String>,
        /// Write calls per second per account and region; 0: no limit. DisableKeyRotation's
        /// quota is 5/s.
        #[serde(alias = "writesPerSecond")]
        pub writes_per_second: u32 = engine_defaults().writes_per_second,
        /// Keys changed at once, at least 1.
        pub concurrency: usize = engine_defaults().concurrency,
        /// Reads after each write until the old state shows, at least 1.
        #[serde(alias = "verifyAttempts")]
        pub verify_attempts: u32 = engine_defaults().verify.attempts,
        /// Pause between those reads, in milliseconds.
        #[serde(alias = "verifyDelayMs")]
        pub verify_delay_ms: u64 = millis(engine_defaults().verify.delay),
        /// The run id of the rollback's own journal lines; a new one when absent.
        #[serde(alias = "runId")]
        pub run_id: Option<String>,
        /// Fail with the first failed key's error instead of returning the outcome.
        #[serde(alias = "errorOnFailure")]
        pub error_on_failure: bool,
    }
}

/// The defaults of the engine these options drive.
fn engine_defaults() -> remediate::RollbackOptions {
    remediate::RollbackOptions::default()
}

impl RollbackOptions {
    fn engine(
        &self,
        progress: Option<RemediationProgressFn>,
    ) -> Result<remediate::RollbackOptions> {
        if self.concurrency == 0 {
            return Err(Error::invalid_input("must be at least 1").with_field("concurrency"));
        }
        if self.verify_attempts == 0 {
            return Err(Error::invalid_input("must be at least 1").with_field("verify_attempts"));
        }
        Ok(remediate::RollbackOptions {
            only_run: self.only_run.clone(),
            writes_per_second: self.writes_per_second,
            concurrency: self.concurrency,
            verify: Verify {
                attempts: self.verify_attempts,
                delay: Duration::from_millis(self.verify_delay_ms),
            },
            dry_run: self.dry_run,
            run_id: self.run_id.clone(),
            progress,
        })
    }
}

/// Undoes what the journal says was changed.
///
/// A dry run (the default) reads the journal and calls nothing: every key comes back
/// `would_roll_back`, or `skipped` when its runs do not chain, and is reported to `progress` as
/// a real run reports it. A real run locks the journal before reading it, connects where the
/// journal points (the keys' regions, each account through its role), leaves alone any key
/// changed since, and journals every step.
pub async fn rollback(
    options: RollbackOptions,
    progress: Option<RemediationProgressFn>,
) -> Result<RollbackOutcome> {
    run(options, progress, None).await
}

/// [`rollback`] against a target of the caller's instead of connecting to AWS.
pub async fn rollback_to(
    options: RollbackOptions,
    target: Arc<dyn RemediationTarget>,
    progress: Option<RemediationProgressFn>,
) -> Result<RollbackOutcome> {
    run(options, progress, Some(target)).await
}

async fn run(
    options: RollbackOptions,
    progress: Option<RemediationProgressFn>,
    target: Option<Arc<dyn RemediationTarget>>,
) -> Result<RollbackOutcome> {
    super::refuse_organization(&options.aws_options(Vec::new()))?;
    let engine = options.engine(progress)?;
    let path = options.journal.as_ref().ok_or_else(|| {
        Error::invalid_input("no journal: give the journal an apply wrote").with_field("journal")
    })?;
    let journal = if options.dry_run {
        Journal::read_only(path)?
    } else {
        Journal::open_existing(path)?
    };
    let entries = journal.read_entries()?;
    let undos = undo_list(&entries, options.only_run.as_deref());
    if options.dry_run || undos.is_empty() {
        return Ok(preview(undos, &engine, journal.warnings()));
    }
    let target = match target {
        Some(target) => target,
        None => {
            let regions = undos
                .iter()
                .filter_map(|u| {
                    KeyArn::parse(&u.target_arn)
                        .ok()
                        .map(|a| a.region.to_owned())
                })
                .collect();
            super::connect(options.aws_options(regions)).await?
        }
    };
    let outcome = remediate::rollback(&entries, target, &engine, &journal).await?;
    match outcome.failure() {
        Some(err) if options.error_on_failure => Err(err),
        _ => Ok(outcome),
    }
}

/// What a run would undo, without a call; each key is reported to the progress callback as a
/// real run reports it.
fn preview(
    undos: Vec<Undo>,
    engine: &remediate::RollbackOptions,
    journal_warnings: Vec<String>,
) -> RollbackOutcome {
    super::preview_progress(engine.progress.as_ref(), undos.len());
    RollbackOutcome {
        run_id: engine.run_id.clone().unwrap_or_else(remediate::new_run_id),
        dry_run: engine.dry_run,
        results: undos
            .into_iter()
            .map(|undo| {
                let (status, why) = match undo.chain_broken {
                    Some(_) => (
                        RollbackStatus::Skipped,
                        Some(reason::CHAIN_BROKEN.to_owned()),
                    ),
                    None => (RollbackStatus::WouldRollBack, None),
                };
                RollbackResult {
                    target_arn: undo.target_arn,
                    status,
                    reason: why,
                    restore: undo.restore,
                    current: None,
                    error: None,
                    possibly_applied: undo.possibly_applied,
                }
            })
            .collect(),
        journal_error: None,
        journal_warnings,
    }
}
