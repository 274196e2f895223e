//! Remediation: `planRemediation` (pure), `apply` and `rollback` (Promises) over the core's
//! `kms_rotation::remediate`, against AWS KMS (or an emulator through `endpointUrl`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kms_rotation::aws::{AwsOptions, AwsSource};
use kms_rotation::remediate::{
    self, ApplyOptions as CoreApplyOptions, Journal, KeyFilter, Plan, PlanOptions,
    RemediationProgressFn, RollbackOptions as CoreRollbackOptions, Selection, TagMatch, Verify,
};
use kms_rotation::{Error, Report};
use napi::bindgen_prelude::{Either, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;

use crate::{convert, error, scan, throw};

/// A tag key and value.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Which findings a plan may act on (all given lists must match; each list matches any entry).
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct KeyFilterOptions {
    pub accounts: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    pub arns: Option<Vec<String>>,
    pub aliases: Option<Vec<String>>,
    pub tags: Option<Vec<Tag>>,
}

/// Options of `planRemediation`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct PlanRemediationOptions {
    /// The period to set (90-2560, at most the policy's maximum); the report policy's
    /// `target_rotation_period_days` when absent.
    pub target_period_days: Option<u32>,
    /// Priority rules, most urgent first: a key gets the rank of the first tag it matches.
    pub priorities: Option<Vec<Tag>>,
    /// Actions per batch (default 50).
    pub batch_size: Option<u32>,
    /// Only findings that match this.
    pub include: Option<KeyFilterOptions>,
    /// Never findings that match this.
    pub exclude: Option<KeyFilterOptions>,
    /// The plan's `generated_at` (`Date` or RFC 3339 string); the clock when absent.
    pub now: Option<Either<DateTime<Utc>, String>>,
}

fn tags(tags: Option<Vec<Tag>>) -> Vec<TagMatch> {
    tags.unwrap_or_default()
        .into_iter()
        .map(|t| TagMatch::new(t.key, t.value))
        .collect()
}

fn filter(options: Option<KeyFilterOptions>) -> KeyFilter {
    let o = options.unwrap_or_default();
    KeyFilter {
        accounts: o.accounts.unwrap_or_default(),
        regions: o.regions.unwrap_or_default(),
        arns: o.arns.unwrap_or_default(),
        aliases: o.aliases.unwrap_or_default(),
        tags: tags(o.tags),
    }
}

/// Plans the remediation of a report: ordered, batched `enable_rotation` actions and the
/// skipped findings with their reasons (formats.md plan shape). Pure and synchronous.
#[napi(
    catch_unwind,
    ts_args_type = "report: Report, options?: PlanRemediationOptions | null",
    ts_return_type = "Plan"
)]
pub fn plan_remediation<'env>(
    env: &'env Env,
    report: Unknown<'env>,
    options: Option<PlanRemediationOptions>,
) -> napi::Result<Unknown<'env>> {
    let report: Report = throw(env, convert::from_js(env, report, "report")?)?;
    let o = options.unwrap_or_default();
    let defaults = PlanOptions::default();
    let options = PlanOptions {
        target_period_days: o.target_period_days,
        priorities: tags(o.priorities),
        batch_size: o.batch_size.map_or(defaults.batch_size, |n| n as usize),
        selection: Selection {
            include: filter(o.include),
            exclude: filter(o.exclude),
        },
        now: throw(env, convert::now(o.now))?,
    };
    let plan = throw(env, error::guard(|| remediate::plan(&report, &options)))?;
    convert::to_js(env, &plan)
}

/// How `apply` and `rollback` reach AWS (the same meaning as `scan`'s options).
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct AwsConnectionOptions {
    /// The region for calls that are not about a key; `AWS_REGION` or the profile's when absent.
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Roles to assume, one per account: each key's account gets its role.
    pub role_arns: Option<Vec<String>>,
    pub external_id: Option<String>,
    pub session_name: Option<String>,
    /// Send every AWS call here (emulators).
    pub endpoint_url: Option<String>,
    /// Attempts per call, retries included (default 5).
    pub max_attempts: Option<u32>,
    pub initial_backoff_ms: Option<u32>,
    pub connect_timeout_ms: Option<u32>,
    pub operation_timeout_ms: Option<u32>,
    pub operation_attempt_timeout_ms: Option<u32>,
}

impl AwsConnectionOptions {
    fn aws_options(self) -> AwsOptions {
        let d = AwsOptions::default();
        let ms = |v: Option<u32>| v.map(|ms| Duration::from_millis(ms.into()));
        AwsOptions {
            regions: self.region.into_iter().collect(),
            profile: self.profile,
            role_arns: self.role_arns.unwrap_or_default(),
            external_id: self.external_id.map(Into::into),
            session_name: self.session_name.unwrap_or(d.session_name),
            endpoint_url: self.endpoint_url,
            max_attempts: self.max_attempts.unwrap_or(d.max_attempts),
            initial_backoff: ms(self.initial_backoff_ms).or(d.initial_backoff),
            connect_timeout: ms(self.connect_timeout_ms).or(d.connect_timeout),
            operation_timeout: ms(self.operation_timeout_ms).or(d.operation_timeout),
            operation_attempt_timeout: ms(self.operation_attempt_timeout_ms)
                .or(d.operation_attempt_timeout),
            ..d
        }
    }
}

async fn aws_target(
    connection: Option<AwsConnectionOptions>,
) -> Result<Arc<dyn remediate::RemediationTarget>, Error> {
    let source = AwsSource::new(connection.unwrap_or_default().aws_options()).await?;
    Ok(Arc::new(kms_rotation::aws::AwsTarget::from_source(
        Arc::new(source),
    )))
}

fn verify(attempts: Option<u32>, delay_ms: Option<u32>) -> Verify {
    let d = Verify::default();
    Verify {
        attempts: attempts.unwrap_or(d.attempts),
        delay: delay_ms.map_or(d.delay, |ms| Duration::from_millis(ms.into())),
    }
}

/// The journal for a run: the file at `path`, opened and locked; or, for a dry run (which
/// writes nothing, so neither creates nor locks a file), one in memory.
fn journal(path: Option<&str>, dry_run: bool) -> Result<Journal, Error> {
    match (path, dry_run) {
        (_, true) => Ok(Journal::in_memory()),
        (Some(path), false) => Journal::open(path),
        (None, false) => Err(Error::invalid_input(
            "a journal file is required to apply or roll back changes (dry runs need none)",
        )
        .with_field("journal")),
    }
}

/// Progress of `apply` (actions) or `rollback` (keys), passed to `onProgress` after each one
/// finishes (cumulative counts).
#[napi(object)]
#[derive(Debug, Clone, Copy)]
pub struct RemediationProgress {
    /// Actions (keys) finished so far, whatever their result.
    pub done: u32,
    /// Actions in the plan (keys to undo).
    pub total: u32,
}

/// The progress callback: called with a `RemediationProgress`, its return value ignored.
type ProgressCallback =
    ThreadsafeFunction<RemediationProgress, (), RemediationProgress, Status, false>;

fn progress_fn(callback: Option<ProgressCallback>) -> Option<RemediationProgressFn> {
    let callback = Arc::new(callback?);
    Some(Arc::new(move |p: remediate::RemediationProgress| {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        // NonBlocking: the run must never wait on the event loop.
        callback.call(
            RemediationProgress {
                done: count(p.done),
                total: count(p.total),
            },
            ThreadsafeFunctionCallMode::NonBlocking,
        );
    }))
}

/// Options of `apply`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ApplyOptions {
    /// The journal file (NDJSON, appended and flushed per event); required unless `dryRun`.
    pub journal: Option<String>,
    /// Read and report, but write nothing (no write call, no journal line).
    pub dry_run: Option<bool>,
    /// Write calls per second per account and region (default 10; 0: no limit).
    pub writes_per_second: Option<u32>,
    /// Actions in flight at once (default 8).
    pub concurrency: Option<u32>,
    /// Stop after this many failures in a row (default 5; 0: never).
    pub max_consecutive_failures: Option<u32>,
    /// Reads after each write to verify it (default 10).
    pub verify_attempts: Option<u32>,
    /// Pause between verification reads in milliseconds (default 1000).
    pub verify_delay_ms: Option<u32>,
    /// The run id written to the journal; a new one when absent.
    pub run_id: Option<String>,
    /// How to reach AWS.
    pub aws: Option<AwsConnectionOptions>,
    /// Called after each action finishes (skipped ones included), from the event loop.
    #[napi(ts_type = "(progress: RemediationProgress) => void")]
    pub on_progress: Option<ProgressCallback>,
    /// Reject with the first failed action's error (`code` from its AWS code: `Throttled`,
    /// `AccessDenied`...) instead of resolving with the outcome.
    pub throw_on_failure: Option<bool>,
}

impl std::fmt::Debug for ApplyOptions {
    // The callback says nothing useful in a debug print: only whether there is one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("journal", &self.journal)
            .field("dry_run", &self.dry_run)
            .field("writes_per_second", &self.writes_per_second)
            .field("concurrency", &self.concurrency)
            .field("max_consecutive_failures", &self.max_consecutive_failures)
            .field("verify_attempts", &self.verify_attempts)
            .field("verify_delay_ms", &self.verify_delay_ms)
            .field("run_id", &self.run_id)
            .field("aws", &self.aws)
            .field("on_progress", &self.on_progress.is_some())
            .field("throw_on_failure", &self.throw_on_failure)
            .finish()
    }
}

/// Applies a plan against AWS KMS: rate-limited, every change verified and journaled. Resolves
/// with the outcome (`run_id`, per-action `results`, `stopped`); rejects when the run cannot
/// go on at all (invalid plan or options, a journal that cannot be written), or, with
/// `throwOnFailure`, with the first failed action as an error.
#[napi(
    catch_unwind,
    ts_args_type = "plan: Plan, options: ApplyOptions",
    ts_return_type = "Promise<ApplyOutcome>"
)]
pub fn apply<'env>(
    env: &'env Env,
    plan: Unknown<'env>,
    options: ApplyOptions,
) -> napi::Result<Unknown<'env>> {
    let plan: Result<Plan, Error> = convert::from_js(env, plan, "plan")?;
    let d = CoreApplyOptions::default();
    let dry_run = options.dry_run.unwrap_or(false);
    let core = CoreApplyOptions {
        writes_per_second: options.writes_per_second.unwrap_or(d.writes_per_second),
        concurrency: options.concurrency.map_or(d.concurrency, |n| n as usize),
        max_consecutive_failures: options
            .max_consecutive_failures
            .map_or(d.max_consecutive_failures, |n| n as usize),
        verify: verify(options.verify_attempts, options.verify_delay_ms),
        dry_run,
        run_id: options.run_id,
        progress: progress_fn(options.on_progress),
    };
    let throw_on_failure = options.throw_on_failure.unwrap_or(false);
    let journal_path = options.journal;
    let aws = options.aws;
    scan::spawn(
        env,
        async move {
            let plan = plan?;
            plan.validate()?;
            core.validate()?;
            let journal = journal(journal_path.as_deref(), dry_run)?;
            let target = aws_target(aws).await?;
            let outcome = remediate::apply(&plan, target, &core, &journal).await?;
            match outcome.failure() {
                Some(err) if throw_on_failure => Err(err),
                _ => Ok(outcome),
            }
        },
        |env, outcome| convert::to_js(env, &outcome),
    )
}

/// Options of `rollback`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct RollbackOptions {
    /// Undo only this apply run; every run in the journal when absent.
    pub only_run: Option<String>,
    /// Read and report, but write nothing.
    pub dry_run: Option<bool>,
    /// Write calls per second per account and region (default 4; 0: no limit).
    pub writes_per_second: Option<u32>,
    /// Keys in flight at once (default 4).
    pub concurrency: Option<u32>,
    pub verify_attempts: Option<u32>,
    pub verify_delay_ms: Option<u32>,
    pub run_id: Option<String>,
    /// How to reach AWS.
    pub aws: Option<AwsConnectionOptions>,
    /// Called after each key finishes (skipped ones included), from the event loop.
    #[napi(ts_type = "(progress: RemediationProgress) => void")]
    pub on_progress: Option<ProgressCallback>,
    /// Reject with the first failed key's error instead of resolving with the outcome.
    pub throw_on_failure: Option<bool>,
}

impl std::fmt::Debug for RollbackOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RollbackOptions")
            .field("only_run", &self.only_run)
            .field("dry_run", &self.dry_run)
            .field("writes_per_second", &self.writes_per_second)
            .field("concurrency", &self.concurrency)
            .field("verify_attempts", &self.verify_attempts)
            .field("verify_delay_ms", &self.verify_delay_ms)
            .field("run_id", &self.run_id)
            .field("aws", &self.aws)
            .field("on_progress", &self.on_progress.is_some())
            .field("throw_on_failure", &self.throw_on_failure)
            .finish()
    }
}

/// Undoes what a journal file says a run changed, appending its own events to the same file (so
/// a second rollback changes nothing). A key changed since is not overwritten
/// (`rollback_skipped`). With `throwOnFailure`, rejects with the first failed key's error.
#[napi(
    catch_unwind,
    ts_args_type = "journal: string, options?: RollbackOptions | null",
    ts_return_type = "Promise<RollbackOutcome>"
)]
pub fn rollback<'env>(
    env: &'env Env,
    journal: String,
    options: Option<RollbackOptions>,
) -> napi::Result<Unknown<'env>> {
    let options = options.unwrap_or_default();
    let d = CoreRollbackOptions::default();
    let dry_run = options.dry_run.unwrap_or(false);
    let core = CoreRollbackOptions {
        only_run: options.only_run,
        writes_per_second: options.writes_per_second.unwrap_or(d.writes_per_second),
        concurrency: options.concurrency.map_or(d.concurrency, |n| n as usize),
        verify: verify(options.verify_attempts, options.verify_delay_ms),
        dry_run,
        run_id: options.run_id,
        progress: progress_fn(options.on_progress),
    };
    let throw_on_failure = options.throw_on_failure.unwrap_or(false);
    let aws = options.aws;
    scan::spawn(
        env,
        async move {
            // A real run locks the journal before reading it; a dry run only reads.
            let sink = if dry_run {
                Journal::read_only(&journal)?
            } else {
                Journal::open_existing(&journal)?
            };
            let entries = sink.read_entries()?;
            let target = aws_target(aws).await?;
            let outcome = remediate::rollback(&entries, target, &core, &sink).await?;
            match outcome.failure() {
                Some(err) if throw_on_failure => Err(err),
                _ => Ok(outcome),
            }
        },
        |env, outcome| convert::to_js(env, &outcome),
    )
}
