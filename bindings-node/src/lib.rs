//! Node binding of kms-rotation: a thin layer over `kms-rotation-core`'s operations
//! (`kms_rotation::ops`).
//!
//! Each function converts its arguments, calls the core and maps the error, nothing else: the
//! options, their defaults and checks (a dry run unless `dryRun: false`, a journal to write,
//! known regions...), the rule, the sources and the renderings are the core's. An options object
//! goes to the core as JSON and is read by the core's options type, which takes JavaScript's
//! camelCase spellings and refuses unknown names; data (records, policies, reports, plans) keeps
//! the snake_case shape of formats.md. I/O operations return Promises and run on napi's tokio
//! runtime.

#![deny(clippy::unwrap_used)]

mod chunked;
mod convert;
mod error;
mod ops;

use kms_rotation::ops::{EvaluateOptions, RenderOptions};
use kms_rotation::remediate::PlanFormat;
use kms_rotation::{Error, Format, KeyRecord, Policy, ops as core};
use napi::Env;
use napi::bindgen_prelude::{
    BufferSlice, Either, FromNapiValue, JsObjectValue, JsValue, Null, Object, Unknown,
};
use napi_derive::napi;

pub use ops::{
    RemediationProgress, ScanProgress, apply, diff_async, evaluate_async, evaluate_json_async,
    event, merge_async, plan, review_exceptions, rollback, scan, send_to_security_hub,
};

/// Turns a core result into a thrown JS error.
pub(crate) fn throw<T>(env: &Env, result: Result<T, Error>) -> napi::Result<T> {
    result.map_err(|e| error::to_js(env, &e))
}

/// The JSON of `{records, policy, now}`: the core's `EvaluateOptions`. `undefined` records
/// become `null`, which the core refuses by name rather than reading as no records.
pub(crate) fn evaluate_options_json(
    env: &Env,
    records: Option<Unknown>,
    policy: Option<Unknown>,
    now: Option<Unknown>,
) -> napi::Result<String> {
    let mut options = Object::new(env)?;
    match records {
        Some(records) if convert::is_nullish(&records) => {
            options.set_named_property("records", Null)?;
        }
        Some(records) => options.set_named_property("records", records)?,
        None => {}
    }
    for (name, value) in [("policy", policy), ("now", now)] {
        if let Some(value) = value {
            options.set_named_property(name, value)?;
        }
    }
    Ok(convert::stringify(env, options.to_unknown())?.unwrap_or_default())
}

/// Evaluates key records against a policy and returns the report: the same report a `scan` of
/// these records gives (findings in report order, one per key, the summary).
///
/// Pure and synchronous (no I/O). `records` are inventory records (formats.md): the `keys` of a
/// parsed inventory file go in as they are. `policy` is a policy document in the file's
/// snake_case shape (`loadPolicy` returns one); the default policy when absent. `now` is a `Date`
/// or an RFC 3339 string (the clock when absent): exceptions expire relative to it.
///
/// Throws an `Error` with `code: 'InvalidInput'` and `field` (e.g. `records[3].key_spec`) for a
/// malformed record or policy. For large fleets, `evaluateAsync` keeps the event loop free and
/// `evaluateJson` is the fastest path (see BENCHMARKS.md).
#[napi(
    catch_unwind,
    ts_args_type = "records: KeyRecord[], policy?: PolicyInput | null, now?: Date | string | null",
    ts_return_type = "Report"
)]
pub fn evaluate<'env>(
    env: &'env Env,
    records: Unknown<'env>,
    policy: Option<Unknown<'env>>,
    now: Option<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
    if !records.is_array()? {
        // Not records: the core says what it expected.
        let json = evaluate_options_json(env, Some(records), policy, now)?;
        let report = throw(env, error::guard(|| evaluate_text(&json)))?;
        return convert::parse_js(env, report);
    }
    let len = Object::from_unknown(records)?.get_array_length()?;
    let records = throw(env, chunked::records_now(env, records, len)?)?;
    let options = evaluate_options_json(env, None, policy, now)?;
    let report = throw(
        env,
        error::guard(|| {
            let mut options: EvaluateOptions = convert::from_json(&options, "")?;
            options.records = records;
            core::evaluate(options)
        }),
    )?;
    chunked::report_now(env, report)
}

/// `evaluate` from the JSON of its options to the JSON of the report.
pub(crate) fn evaluate_text(options: &str) -> Result<String, Error> {
    let options: EvaluateOptions = convert::from_json(options, "")?;
    convert::to_json(&core::evaluate(options)?)
}

/// `evaluate` from JSON text to JSON text: the fastest way to evaluate many records, since no
/// record or finding becomes a JS object.
///
/// `input` is the JSON text (a string, or a `Buffer` of UTF-8) of an array of key records or of
/// an inventory document (`{"schema_version": 1, "keys": [...]}`). Returns the report as compact
/// JSON: `JSON.parse(evaluateJson(text))` deep-equals `evaluate(JSON.parse(text))`.
#[napi(
    catch_unwind,
    ts_args_type = "input: string | Buffer, policy?: PolicyInput | null, now?: Date | string | null"
)]
pub fn evaluate_json<'env>(
    env: &'env Env,
    input: Either<String, BufferSlice<'env>>,
    policy: Option<Unknown<'env>>,
    now: Option<Unknown<'env>>,
) -> napi::Result<String> {
    let options = evaluate_options_json(env, None, policy, now)?;
    throw(
        env,
        error::guard(|| match &input {
            Either::A(text) => evaluate_json_text(text, &options),
            Either::B(bytes) => evaluate_json_text(utf8(bytes)?, &options),
        }),
    )
}

/// `evaluateJson`'s work: records from `input` plus the rest of the options in `options`.
pub(crate) fn evaluate_json_text(input: &str, options: &str) -> Result<String, Error> {
    let mut options: EvaluateOptions = convert::from_json(options, "")?;
    options.records = if input.trim_start().starts_with('{') {
        // An inventory document, checked as the inventory source checks a file.
        let source =
            kms_rotation::InventorySource::parse(input, kms_rotation::input::Syntax::Json)?;
        source.records().to_vec()
    } else {
        convert::from_json::<Vec<KeyRecord>>(input, "records")?
    };
    convert::to_json(&core::evaluate(options)?)
}

pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(bytes).map_err(|e| {
        Error::invalid_input(format!("the input is not UTF-8: {e}")).with_field("input")
    })
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
#[napi(catch_unwind, ts_return_type = "PolicyException[]")]
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

/// Renders a report (formats `json`, the default, `ndjson`, `csv`, `markdown`, `asff`, `sarif`,
/// `ocsf` and `html`) or a plan (`json`, `table`, `script`): `{ report, format }` or `{ plan, format }`. Returns the text;
/// with `output`, writes that file instead (atomically) and returns an empty string.
#[napi(
    catch_unwind,
    ts_args_type = "options: RenderOptions",
    ts_return_type = "string"
)]
pub fn render(env: &Env, options: Unknown) -> napi::Result<String> {
    let json = convert::stringify(env, options)?.unwrap_or_default();
    throw(
        env,
        error::guard(|| {
            let options: RenderOptions = convert::from_json(&json, "")?;
            core::render(options)
        }),
    )
}

/// An operation without progress or I/O: its options read by the core, its result as a plain JS
/// value of the JSON shape.
fn quick<'env, O, T>(
    env: &'env Env,
    options: Option<Unknown<'env>>,
    operation: impl FnOnce(O) -> Result<T, Error>,
) -> napi::Result<Unknown<'env>>
where
    O: serde::de::DeserializeOwned,
    T: serde::Serialize,
{
    let json = convert::plain_options(env, options)?;
    let result = throw(
        env,
        error::guard(|| operation(convert::from_json(&json?, "")?)),
    )?;
    convert::to_js(env, &result)
}

/// What a finding's reason code means, why it matters and how to fix the key (in the AWS
/// console, and with the aws CLI: `KEY_ARN` and `REGION` stand for the finding's `arn` and
/// `region`), as `kms-rotation explain --format json` gives it: `{ reason }` one code, else
/// every code in the rule's order.
///
/// Throws `InvalidInput` with `field: 'reason'` for a code that is not one (the message lists
/// them), and for an unknown option.
#[napi(
    catch_unwind,
    ts_args_type = "options?: ExplainOptions | null",
    ts_return_type = "Explanation[]"
)]
pub fn explain<'env>(
    env: &'env Env,
    options: Option<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
    quick(env, options, core::explain)
}

/// The progress between two reports, as `kms-rotation diff --format json` gives it: `{ old,
/// new }` (reports) or `{ oldFile, newFile }` (saved JSON reports), one of each, every one
/// rechecked (an edited report is refused). The keys fixed, regressed, lapsed out of an
/// exception, newly failing, newly exempt, now in error, gone and not compared (where the other
/// report could not list their account or region), with counts in total and per account and
/// region, and `worse` (any regressed, lapsed or newly failing key).
///
/// Throws `InvalidInput` with `field` (`new`, `old.generated_at`, `new.findings[0].status`) for
/// a missing or doubled report, an old report newer than the new one, or an edited report.
#[napi(
    catch_unwind,
    ts_args_type = "options: DiffOptions",
    ts_return_type = "ReportDiff"
)]
pub fn diff<'env>(env: &'env Env, options: Option<Unknown<'env>>) -> napi::Result<Unknown<'env>> {
    quick(env, options, core::diff)
}

/// One report from the reports of a scan split over several jobs (by account or region), as
/// `kms-rotation merge` makes it: `{ reports, reportFiles }` (reports, saved JSON reports, or
/// both), each rechecked. Throws `InvalidInput` with `field` (`reports[1].policy`, `reports[2]`)
/// for no part, an edited part, parts under different policies, overlapping parts, or parts
/// whose verdicts differ at the earliest part's time.
#[napi(
    catch_unwind,
    ts_args_type = "options: MergeOptions",
    ts_return_type = "Report"
)]
pub fn merge<'env>(env: &'env Env, options: Option<Unknown<'env>>) -> napi::Result<Unknown<'env>> {
    quick(env, options, core::merge)
}

/// The organisation baseline generated from the policy (`policy` or `policyFile`), as
/// `kms-rotation baseline` prints it: `format` `'cloudformation'` (the default: the AWS Config
/// rule `CMK_BACKING_KEY_ROTATION_ENABLED`, its remediation through
/// `AWSConfigRemediation-EnableKeyRotation` and the runbook's role, the EventBridge rule for the
/// event handler), `'conformance-pack'`, or `'terraform'` (a compliant `aws_kms_key` at the
/// policy's period). The document's text.
#[napi(
    catch_unwind,
    ts_args_type = "options?: BaselineOptions | null",
    ts_return_type = "string"
)]
pub fn baseline<'env>(
    env: &'env Env,
    options: Option<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
    quick(env, options, core::baseline)
}

/// The least-privilege IAM policy for `mode`: `'read_only'` (the default: scan, and plan when it
/// scans) or `'remediate'` (apply, rollback), with `sts:AssumeRole` on `roleArns` when given, as
/// `kms-rotation iam-policy` gives it. `document` is ready for `aws iam create-policy
/// --policy-document`; `permissions` says what each action is for and which may be left out.
///
/// Throws `InvalidInput` with `field` (`role_arns[0]`, `mode`) for a role that is no IAM role
/// ARN, an unknown mode, or an unknown option.
#[napi(
    catch_unwind,
    ts_args_type = "options?: IamPolicyOptions | null",
    ts_return_type = "IamPolicy"
)]
pub fn iam_policy<'env>(
    env: &'env Env,
    options: Option<Unknown<'env>>,
) -> napi::Result<Unknown<'env>> {
    quick(env, options, core::iam_policy)
}

/// The formats `render` accepts for a report (the default) or a plan, in the core's order.
#[napi(
    ts_generic_types = "Of extends 'report' | 'plan' = 'report'",
    ts_args_type = "of?: Of | null",
    ts_return_type = "Of extends 'plan' ? PlanFormat[] : ReportFormat[]"
)]
pub fn formats(env: &Env, of: Option<String>) -> napi::Result<Vec<&'static str>> {
    match of.as_deref().unwrap_or("report") {
        "report" => Ok(Format::ALL.iter().map(|f| f.as_str()).collect()),
        "plan" => Ok(PlanFormat::ALL.iter().map(|f| f.as_str()).collect()),
        other => throw(
            env,
            Err(Error::invalid_input(format!(
                "`{other}`: expected `report` or `plan`"
            ))),
        ),
    }
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
        ops::spawn(
            env,
            async { panic!("test panic in a Promise") },
            |env, ()| napi::bindgen_prelude::ToNapiValue::into_unknown((), env),
        )
    } else {
        let result: Result<(), Error> = error::guard(|| panic!("test panic in a sync call"));
        throw(env, result)?;
        napi::bindgen_prelude::ToNapiValue::into_unknown((), env)
    }
}

/// The addon's own allocations (records, findings, JSON text: millions of small strings for a
/// large fleet) go to mimalloc rather than the system allocator Node shares with everything
/// else: evaluateJson on 100,000 records, measured in BENCHMARKS.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
