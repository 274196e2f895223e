//! Node binding of kms-rotation: a thin layer over `kms-rotation-core`.
//!
//! It converts values and maps errors, nothing else: the rule, the policy checks, the sources
//! and the renderings are the core's. Options are camelCase, as JS expects; records, findings,
//! reports and policy documents keep the snake_case shape of formats.md, so the same JSON crosses
//! every boundary. Async functions run on napi's tokio runtime and return Promises.

#![deny(clippy::unwrap_used)]

mod convert;
mod error;
mod remediate;
mod scan;

use chrono::{DateTime, Utc};
use kms_rotation::{Format, KeyRecord, Policy, Report, rule};
use napi::Env;
use napi::bindgen_prelude::{Either, Unknown};
use napi_derive::napi;

pub use remediate::{apply, plan_remediation, rollback};
pub use scan::{AwsRateLimits, ScanOptions, ScanProgress, scan};

/// Turns a core result into a thrown JS error.
pub(crate) fn throw<T>(env: &Env, result: Result<T, kms_rotation::Error>) -> napi::Result<T> {
    result.map_err(|e| error::to_js(env, &e))
}

/// Evaluates key records against a policy: one finding per record, in the records' order.
///
/// Pure and synchronous (no I/O). `records` are inventory records (`formats.md`): the `keys` of
/// a parsed inventory file go in as they are. `policy` is a policy document in the file's
/// snake_case shape (`loadPolicy` returns one); the default policy when absent. `now` is a `Date`
/// or an RFC 3339 string (the clock when absent): exceptions expire relative to it.
///
/// Throws an `Error` with `code: 'InvalidInput'` and `field` (e.g. `records[3].key_spec`) for a
/// malformed record or policy.
#[napi(
    catch_unwind,
    ts_args_type = "records: KeyRecord[], policy?: PolicyDocument | null, now?: Date | string | null",
    ts_return_type = "Finding[]"
)]
pub fn evaluate<'env>(
    env: &'env Env,
    records: Unknown<'env>,
    policy: Option<Unknown<'env>>,
    now: Option<Either<DateTime<Utc>, String>>,
) -> napi::Result<Unknown<'env>> {
    let records: Vec<KeyRecord> = throw(env, convert::from_js(env, records, "records")?)?;
    let policy = throw(env, convert::policy(env, policy)?)?;
    let now = throw(env, convert::now(now))?.unwrap_or_else(Utc::now);
    let findings = throw(
        env,
        error::guard(|| Ok(rule::evaluate_all(&records, &policy, now))),
    )?;
    convert::to_js(env, &findings)
}

/// Options of [`load_policy`].
#[napi(object)]
#[derive(Debug, Default)]
pub struct LoadPolicyOptions {
    /// Exceptions files (JSON or YAML, `{"exceptions": [...]}`), added to the policy's.
    pub exceptions: Option<Vec<String>>,
}

/// Reads and validates a policy file (JSON, or YAML by extension) and any exceptions files, as
/// the CLI's `--policy` and `--exceptions` do. Without a path, the default policy plus the
/// exceptions. Returns the policy document (snake_case, the file's shape, every field filled in).
///
/// Throws `InvalidInput` (with `file`, `line`, `column`, `field`) for a malformed file and
/// `NotFound` for a missing one.
#[napi(catch_unwind, ts_return_type = "Policy")]
pub fn load_policy<'env>(
    env: &'env Env,
    path: Option<String>,
    options: Option<LoadPolicyOptions>,
) -> napi::Result<Unknown<'env>> {
    let policy = throw(
        env,
        error::guard(|| {
            let mut policy = match &path {
                Some(path) => Policy::from_file(path)?,
                None => Policy::default(),
            };
            for file in options.and_then(|o| o.exceptions).unwrap_or_default() {
                policy.add_exceptions_file(&file)?;
            }
            Ok(policy)
        }),
    )?;
    convert::to_js(env, &policy)
}

/// Reads and validates an exceptions file (`{"exceptions": [...]}`, JSON or YAML) and returns its
/// entries, ready for a policy document's `exceptions`.
#[napi(catch_unwind, ts_return_type = "Exception[]")]
pub fn load_exceptions<'env>(env: &'env Env, path: String) -> napi::Result<Unknown<'env>> {
    let policy = throw(
        env,
        error::guard(|| {
            let mut policy = Policy::default();
            policy.add_exceptions_file(&path)?;
            Ok(policy)
        }),
    )?;
    convert::to_js(env, &policy.exceptions)
}

/// Renders a report in one of the core's formats (see `formats()`): `json` is the whole report
/// as the CLI writes it, `ndjson` one finding per line.
#[napi(
    catch_unwind,
    ts_args_type = "report: Report, format?: ReportFormat | null"
)]
pub fn render(env: &Env, report: Unknown, format: Option<String>) -> napi::Result<String> {
    let report: Report = throw(env, convert::from_js(env, report, "report")?)?;
    let format: Format = throw(env, format.as_deref().unwrap_or("json").parse())?;
    throw(env, error::guard(|| report.render_to_string(format)))
}

/// The formats `render` accepts, in the core's order.
#[napi(ts_return_type = "ReportFormat[]")]
pub fn formats() -> Vec<&'static str> {
    Format::ALL.iter().map(|f| f.as_str()).collect()
}

/// The names `err.code` can take: the core's error kinds.
#[napi(ts_return_type = "ErrorCode[]")]
pub fn error_codes() -> Vec<&'static str> {
    use kms_rotation::ErrorKind::*;
    [
        InvalidInput,
        NotFound,
        AccessDenied,
        Throttled,
        InvalidKeyState,
        Unsupported,
        Unavailable,
        Unexpected,
    ]
    .iter()
    .map(|k| k.as_str())
    .collect()
}

/// For the binding's own tests: panics inside the binding (synchronously, or inside the Promise's
/// task when `inAsync`), to show that a panic becomes an `Unexpected` error, never a crash.
#[doc(hidden)]
#[napi(
    catch_unwind,
    js_name = "__panicForTests",
    ts_return_type = "Promise<never> | never"
)]
pub fn panic_for_tests(env: &Env, in_async: bool) -> napi::Result<Unknown<'_>> {
    if in_async {
        let promise = scan::spawn(
            env,
            async { panic!("test panic in a Promise") },
            |env, ()| napi::bindgen_prelude::ToNapiValue::into_unknown((), env),
        )?;
        Ok(promise)
    } else {
        let result: Result<(), kms_rotation::Error> =
            error::guard(|| panic!("test panic in a sync call"));
        throw(env, result)?;
        napi::bindgen_prelude::ToNapiValue::into_unknown((), env)
    }
}
