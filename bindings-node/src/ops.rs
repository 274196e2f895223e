//! The Promise-returning operations: each converts its options (see `convert::options`), runs the
//! core's operation on napi's tokio runtime and resolves with its result. Reading the options
//! (records included) and writing the result as JSON happen off the event loop; only the
//! conversions from and to JS values run on it.

use std::future::Future;
use std::sync::Arc;

use futures::FutureExt;
use kms_rotation::ops::{
    self as core, ApplyOptions, EvaluateOptions, EventOptions, ExceptionsOptions, PlanOptions,
    RollbackOptions, ScanOptions, SecurityHubOptions,
};
use kms_rotation::remediate::{self, RemediationProgressFn};
use kms_rotation::source::{ProgressFn, ProgressUpdate};
use kms_rotation::{Error, ErrorKind};
use napi::Env;
use napi::bindgen_prelude::{
    Buffer, Either, FromNapiValue, JsObjectValue, JsValue, Null, Object, ToNapiValue, Unknown,
};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;

use crate::convert::{self, Callback};
use crate::{chunked, error};

/// Progress of a scan (cumulative counts), passed to `scan`'s and `plan`'s `onProgress`.
#[napi(object)]
#[derive(Debug, Clone, Copy)]
pub struct ScanProgress {
    /// Keys found by listing so far.
    pub keys_listed: u32,
    /// Keys whose facts have all been read so far.
    pub keys_read: u32,
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

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// NonBlocking: the core's tasks never wait on the event loop.
fn scan_progress(callback: Callback<ScanProgress>) -> ProgressFn {
    let callback = Arc::new(callback);
    Arc::new(move |p: ProgressUpdate| {
        let progress = ScanProgress {
            keys_listed: count(p.keys_listed),
            keys_read: count(p.keys_read),
        };
        callback.call(progress, ThreadsafeFunctionCallMode::NonBlocking);
    })
}

fn remediation_progress(callback: Callback<RemediationProgress>) -> RemediationProgressFn {
    let callback = Arc::new(callback);
    Arc::new(move |p: remediate::RemediationProgress| {
        let progress = RemediationProgress {
            done: count(p.done),
            total: count(p.total),
        };
        callback.call(progress, ThreadsafeFunctionCallMode::NonBlocking);
    })
}

/// Scans keys and returns a Promise of the report (formats.md shape, the same JSON as the
/// CLI's `--format json`).
///
/// The source is `records` (memory) when given, else `inventory` (a file), else AWS (the default
/// credential chain, or `profile` / `roleArns`; `endpointUrl` for emulators). Every option is
/// checked before any call. Per-key failures are `error` findings and regions that could not be
/// listed are `scope_errors`: the Promise rejects only when the scan cannot run at all, with an
/// `Error` whose `code` is the error kind. The findings cross the event loop a slice at a time.
#[napi(
    catch_unwind,
    ts_args_type = "options?: (ScanOptions & WithProgress<ScanProgress>) | null",
    ts_return_type = "Promise<Report>"
)]
pub fn scan<'env>(env: &'env Env, options: Option<Unknown<'env>>) -> napi::Result<Unknown<'env>> {
    let converted = convert::options::<ScanProgress>(env, options)?;
    let (link, state) = chunked::link(env, Null.into_unknown(env)?, 0)?;
    let work = async move {
        let converted = converted?;
        let options: ScanOptions = convert::from_json(&converted.json, "")?;
        let report = core::scan(options, converted.on_progress.map(scan_progress)).await?;
        link.send_report(report).await
    };
    settle(env, work, move |env, outcome| {
        chunked::resolve(env, state, outcome)
    })
}

/// Plans the remediation of a report: ordered, batched `enable_rotation` actions and the skipped
/// findings with their reasons (formats.md plan shape). The report is `report` (rechecked: every
/// verdict is recomputed from its evidence), `reportFile`, or a scan made first with the options
/// in `scan`.
#[napi(
    catch_unwind,
    ts_args_type = "options: PlanOptions & WithProgress<ScanProgress>",
    ts_return_type = "Promise<Plan>"
)]
pub fn plan<'env>(env: &'env Env, options: Option<Unknown<'env>>) -> napi::Result<Unknown<'env>> {
    run(
        env,
        options,
        scan_progress,
        |options: PlanOptions, progress| core::plan(options, progress),
    )
}

/// Reviews the exceptions of a report's policy: each one's state (`expired` and still matching
/// keys, `unused`, `unknown`, `expiring` within `withinDays`, `active`), days left and keys, and
/// the counts (formats.md exceptions review shape, as `kms-rotation exceptions --format json`).
/// The report is `report` (rechecked), `reportFile`, or a scan made first with the options in
/// `scan`.
#[napi(
    catch_unwind,
    ts_args_type = "options: ExceptionsOptions & WithProgress<ScanProgress>",
    ts_return_type = "Promise<ExceptionsReview>"
)]
pub fn review_exceptions<'env>(
    env: &'env Env,
    options: Option<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
    run(
        env,
        options,
        scan_progress,
        |options: ExceptionsOptions, progress| core::review_exceptions(options, progress),
    )
}

/// Applies a plan (`plan` or `planFile`). A dry run unless `dryRun: false`: a dry run calls and
/// writes nothing and resolves with every action `would_remediate`. A real run needs `journal`,
/// rate-limits its writes, verifies and journals each one. Resolves with the outcome; rejects
/// when the run cannot go on at all, or, with `errorOnFailure`, with the first failed action.
#[napi(
    catch_unwind,
    ts_args_type = "options: ApplyOptions & WithProgress<RemediationProgress>",
    ts_return_type = "Promise<ApplyOutcome>"
)]
pub fn apply<'env>(env: &'env Env, options: Option<Unknown<'env>>) -> napi::Result<Unknown<'env>> {
    run(
        env,
        options,
        remediation_progress,
        |options: ApplyOptions, progress| core::apply(options, progress),
    )
}

/// Undoes what the `journal` says a run changed. A dry run unless `dryRun: false`: a dry run
/// only reads the journal and resolves with what would be undone. A real run appends its own
/// events to the journal (so a second rollback changes nothing) and leaves alone any key
/// changed since (`rollback_skipped`).
#[napi(
    catch_unwind,
    ts_args_type = "options: RollbackOptions & WithProgress<RemediationProgress>",
    ts_return_type = "Promise<RollbackOutcome>"
)]
pub fn rollback<'env>(
    env: &'env Env,
    options: Option<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
    run(
        env,
        options,
        remediation_progress,
        |options: RollbackOptions, progress| core::rollback(options, progress),
    )
}

/// Re-checks the keys a KMS CloudTrail event touches (`event`, the EventBridge event as
/// delivered, or `eventFile`), reading them with `scan`'s options (AWS by default), and with
/// `remediate: true` fixes them through plan and apply (a dry run unless `dryRun: false`; a
/// real run needs `journal`). Resolves with the outcome: `ignored` (why) for an event of another
/// kind, else the touched `keys` and their `report`, `notFound` keys, and the `plan` and
/// `remediation`. Rejects with `InvalidInput` and `field` (`event.detail.requestParameters.keyId`)
/// for a malformed event. `kms-rotation/lambda` is its Lambda handler.
#[napi(
    catch_unwind,
    ts_args_type = "options: EventOptions & WithProgress<ScanProgress>",
    ts_return_type = "Promise<EventOutcome>"
)]
pub fn event<'env>(env: &'env Env, options: Option<Unknown<'env>>) -> napi::Result<Unknown<'env>> {
    run(
        env,
        options,
        scan_progress,
        |options: EventOptions, progress| core::event(options, progress),
    )
}

/// Sends a report's findings (`report`) to AWS Security Hub with BatchImportFindings, as ASFF:
/// batches of at most 100, each account's findings with that account's credentials (the default
/// ones, or its role in `roleArns`), to each key's region or to `region`. Resolves with the
/// outcome: how many were imported, and every finding that was not (`complete` is false then);
/// rejects only when the send cannot start (bad options).
#[napi(
    catch_unwind,
    ts_args_type = "options: SecurityHubOptions",
    ts_return_type = "Promise<SecurityHubOutcome>"
)]
pub fn send_to_security_hub<'env>(
    env: &'env Env,
    options: Option<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
    let json = convert::plain_options(env, options)?;
    let work = async move {
        let options: SecurityHubOptions = convert::from_json(&json?, "")?;
        convert::to_json(&core::send_to_security_hub(options).await?)
    };
    spawn(env, work, convert::parse_js)
}

/// `diff` off the event loop: reading and rechecking the reports and comparing them run on a
/// worker thread.
#[napi(
    catch_unwind,
    ts_args_type = "options: DiffOptions",
    ts_return_type = "Promise<ReportDiff>"
)]
pub fn diff_async<'env>(
    env: &'env Env,
    options: Option<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
    quick_async(env, options, core::diff)
}

/// `merge` off the event loop: reading, rechecking and merging the reports run on a worker
/// thread.
#[napi(
    catch_unwind,
    ts_args_type = "options: MergeOptions",
    ts_return_type = "Promise<Report>"
)]
pub fn merge_async<'env>(
    env: &'env Env,
    options: Option<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
    quick_async(env, options, core::merge)
}

/// An operation without progress or AWS, off the event loop: the options cross as JSON, the
/// operation runs on a worker thread, and the Promise resolves with its result.
fn quick_async<'env, O, T>(
    env: &'env Env,
    options: Option<Unknown<'env>>,
    operation: fn(O) -> Result<T, Error>,
) -> napi::Result<Unknown<'env>>
where
    O: serde::de::DeserializeOwned + 'static,
    T: serde::Serialize + 'static,
{
    let json = convert::plain_options(env, options)?;
    let work = blocking(move || convert::to_json(&operation(convert::from_json(&json?, "")?)?));
    spawn(env, work, convert::parse_js)
}

/// `evaluate` off the event loop: the rule runs on a worker thread, and the records and the
/// report's findings cross the event loop a slice at a time (see `chunked.rs`), so the event
/// loop keeps turning. The records must not change until the Promise settles.
#[napi(
    catch_unwind,
    ts_args_type = "records: KeyRecord[], policy?: PolicyInput | null, now?: Date | string | null",
    ts_return_type = "Promise<Report>"
)]
pub fn evaluate_async<'env>(
    env: &'env Env,
    records: Unknown<'env>,
    policy: Option<Unknown<'env>>,
    now: Option<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
    if !records.is_array()? {
        // Not records: the core says what it expected.
        let json = crate::evaluate_options_json(env, Some(records), policy, now)?;
        return spawn(
            env,
            blocking(move || crate::evaluate_text(&json)),
            convert::parse_js,
        );
    }
    let len = Object::from_unknown(records)?.get_array_length()?;
    let options = crate::evaluate_options_json(env, None, policy, now)?;
    let (link, state) = chunked::link(env, records, len)?;
    let work = async move {
        let mut options: EvaluateOptions = convert::from_json(&options, "")?;
        options.records = link.records().await?;
        let report = blocking(move || core::evaluate(options)).await?;
        link.send_report(report).await
    };
    settle(env, work, move |env, outcome| {
        chunked::resolve(env, state, outcome)
    })
}

/// `evaluateJson` off the event loop: only copying the text in and out runs on it.
#[napi(
    catch_unwind,
    ts_args_type = "input: string | Buffer, policy?: PolicyInput | null, now?: Date | string | null",
    ts_return_type = "Promise<string>"
)]
pub fn evaluate_json_async<'env>(
    env: &'env Env,
    input: Either<String, Buffer>,
    policy: Option<Unknown<'env>>,
    now: Option<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
    let options = crate::evaluate_options_json(env, None, policy, now)?;
    spawn(
        env,
        blocking(move || match &input {
            Either::A(text) => crate::evaluate_json_text(text, &options),
            Either::B(bytes) => crate::evaluate_json_text(crate::utf8(bytes)?, &options),
        }),
        |env, text| napi::bindgen_prelude::ToNapiValue::into_unknown(text, env),
    )
}

/// One operation: options converted (the progress callback apart) and read by the core off the
/// event loop, the operation run, its result written as JSON off the event loop and parsed on it.
fn run<'env, O, P, F, Fut, T, Progress>(
    env: &'env Env,
    options: Option<Unknown<'env>>,
    progress: impl FnOnce(Callback<P>) -> Progress + Send + 'static,
    operation: F,
) -> napi::Result<Unknown<'env>>
where
    O: serde::de::DeserializeOwned,
    P: napi::bindgen_prelude::JsValuesTupleIntoVec + 'static,
    F: FnOnce(O, Option<Progress>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, Error>> + Send,
    T: serde::Serialize,
    Progress: Send + 'static,
{
    let converted = convert::options::<P>(env, options)?;
    let work = async move {
        let converted = converted?;
        let options: O = convert::from_json(&converted.json, "")?;
        let result = operation(options, converted.on_progress.map(progress)).await?;
        convert::to_json(&result)
    };
    spawn(env, work, convert::parse_js)
}

/// CPU-bound work on tokio's blocking pool, so that scans sharing the runtime keep going.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(move || error::guard(work))
        .await
        .unwrap_or_else(|e| {
            Err(Error::new(
                ErrorKind::Unexpected,
                format!("the worker thread failed: {e}"),
            ))
        })
}

/// Runs `work` on napi's tokio runtime and returns its Promise, which resolves with `resolve`'s
/// value or rejects with the core error as a JS `Error` (see `error.rs`).
pub(crate) fn spawn<'env, T, F, R>(
    env: &'env Env,
    work: F,
    resolve: R,
) -> napi::Result<Unknown<'env>>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
    R: FnOnce(&'env Env, T) -> napi::Result<Unknown<'env>> + 'static,
{
    settle(env, work, move |env, outcome| match outcome {
        Ok(value) => resolve(env, value),
        Err(e) => Err(error::to_js(env, &e)),
    })
}

/// Runs `work` on napi's tokio runtime and returns its Promise, settled by `settle` on the event
/// loop with the outcome; a panic in `work` is an `Unexpected` error.
pub(crate) fn settle<'env, T, F, R>(
    env: &'env Env,
    work: F,
    settle: R,
) -> napi::Result<Unknown<'env>>
where
    T: Send + 'static,
    F: Future<Output = Result<T, Error>> + Send + 'static,
    R: FnOnce(&'env Env, Result<T, Error>) -> napi::Result<Unknown<'env>> + 'static,
{
    let work = std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .map(|outcome| Ok(outcome.unwrap_or_else(|p| Err(error::from_panic(p)))));
    let promise = env.spawn_future_with_callback(work, settle)?;
    Ok(promise.to_unknown())
}
