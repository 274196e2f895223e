//! The operations, sync and async: keyword arguments converted into the core's options types
//! (`kms_rotation::ops`), the operation called, its result wrapped, its error mapped. Every
//! default and check is the core's: nothing here knows an option's name but `progress`.

use std::future::Future;
use std::sync::{Arc, Mutex};

use kms_rotation::ops;
use kms_rotation::{Inventory, InventorySource};
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{self, Json, from_py};
use crate::types::{ApplyResult, Plan, Progress, RemediationProgress, Report, RollbackResult};
use crate::{errors, runtime};

/// The exception a progress callback raised, kept to be raised instead of the call's result.
type Failure = Arc<Mutex<Option<PyErr>>>;

/// The user's `progress` callback as the core's progress function, with `U` (the core's update)
/// passed as `P` (its Python class). Sync calls call it directly (from the runtime's threads,
/// with the GIL); async calls on the event loop's thread. Once it has raised, it is not called
/// again.
#[allow(clippy::type_complexity)]
fn progress<U, P>(
    py: Python<'_>,
    callback: Option<Py<PyAny>>,
    asynchronous: bool,
) -> PyResult<(Option<Arc<dyn Fn(U) + Send + Sync>>, Failure)>
where
    U: Send + 'static,
    P: From<U> + for<'py> IntoPyObject<'py> + 'static,
{
    let failure = Failure::default();
    let Some(callback) = callback.filter(|c| !c.is_none(py)) else {
        return Ok((None, failure));
    };
    let event_loop = match asynchronous {
        true => Some(pyo3_async_runtimes::get_running_loop(py)?.unbind()),
        false => None,
    };
    let failed = failure.clone();
    let call = move |update: U| {
        Python::attach(|py| {
            let mut failed = failed.lock().unwrap_or_else(|e| e.into_inner());
            if failed.is_some() {
                return;
            }
            let progress = P::from(update);
            let called = match &event_loop {
                Some(event_loop) => event_loop
                    .call_method1(
                        py,
                        "call_soon_threadsafe",
                        (callback.clone_ref(py), progress),
                    )
                    .map(drop),
                None => callback.call1(py, (progress,)).map(drop),
            };
            if let Err(err) = called {
                *failed = Some(err);
            }
        });
    };
    Ok((Some(Arc::new(call)), failure))
}

/// Runs `fut`: to completion without the GIL (sync; a progress callback that raised wins over
/// the result), or as an asyncio awaitable.
fn run<'py, T>(
    py: Python<'py>,
    asynchronous: bool,
    failure: Failure,
    fut: impl Future<Output = kms_rotation::Result<T>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>>
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    if asynchronous {
        return runtime::awaitable(py, fut);
    }
    let value = runtime::block_on(py, fut)?;
    if let Some(err) = failure.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(err);
    }
    value.into_bound_py_any(py)
}

fn options<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<T> {
    convert::options(py, kwargs).map_err(|e| errors::to_py(py, e))
}

/// Declares `$name` and `${name}_async`, both taking `progress=` and `**options`, and both
/// calling `$body` with the converted options.
macro_rules! operation {
    (
        $(#[$doc:meta])*
        $name:ident, $name_async:ident,
        |$opts:ident: $options:ty, $progress:ident: $update:ty => $class:ty| $body:expr
    ) => {
        $(#[$doc])*
        #[pyfunction]
        #[pyo3(signature = (*, progress = None, **options))]
        pub fn $name<'py>(
            py: Python<'py>,
            progress: Option<Py<PyAny>>,
            options: Option<&Bound<'py, PyDict>>,
        ) -> PyResult<Bound<'py, PyAny>> {
            call(py, progress, options, false)
        }

        /// The same, as an asyncio awaitable; `progress` is called on the event loop's thread.
        #[pyfunction]
        #[pyo3(signature = (*, progress = None, **options))]
        pub fn $name_async<'py>(
            py: Python<'py>,
            progress: Option<Py<PyAny>>,
            options: Option<&Bound<'py, PyDict>>,
        ) -> PyResult<Bound<'py, PyAny>> {
            call(py, progress, options, true)
        }

        fn call<'py>(
            py: Python<'py>,
            progress: Option<Py<PyAny>>,
            options: Option<&Bound<'py, PyDict>>,
            asynchronous: bool,
        ) -> PyResult<Bound<'py, PyAny>> {
            let $opts: $options = self::options(py, options)?;
            let ($progress, failure) = self::progress::<$update, $class>(py, progress, asynchronous)?;
            run(py, asynchronous, failure, $body)
        }
    };
}

pub mod scan {
    use super::*;
    operation! {
        /// Reads keys (key records, an inventory file, or AWS), judges each and reports.
        scan, scan_async,
        |opts: ops::ScanOptions, progress: kms_rotation::source::ProgressUpdate => Progress|
            async move { ops::scan(opts, progress).await.map(Report::from) }
    }
}

pub mod plan {
    use super::*;
    operation! {
        /// Plans the fixes of a report's failing keys (a report, a report file, or a scan).
        plan, plan_async,
        |opts: ops::PlanOptions, progress: kms_rotation::source::ProgressUpdate => Progress|
            async move { ops::plan(opts, progress).await.map(Plan::from) }
    }
}

pub mod event {
    use super::*;
    operation! {
        /// Re-checks the keys a KMS CloudTrail event (`event=` the EventBridge event, or
        /// `event_file=`) touches, and with `remediate=True` fixes them (a dry run unless
        /// `dry_run=False`): the outcome as a dict (`ignored`, `keys`, `report`, `not_found`,
        /// `plan`, `remediation`).
        event, event_async,
        |opts: ops::EventOptions, progress: kms_rotation::source::ProgressUpdate => Progress|
            async move { ops::event(opts, progress).await.map(Json) }
    }
}

pub mod exceptions {
    use super::*;
    operation! {
        /// Reviews the exceptions of a report's policy (a report, a report file, or a scan):
        /// each one's state, days left and keys, and the counts, as a dict.
        review_exceptions, review_exceptions_async,
        |opts: ops::ExceptionsOptions, progress: kms_rotation::source::ProgressUpdate => Progress|
            async move { ops::review_exceptions(opts, progress).await.map(Json) }
    }
}

pub mod apply {
    use super::*;
    operation! {
        /// Carries out a plan, journaled and verified: a dry run unless `dry_run=False`.
        apply, apply_async,
        |opts: ops::ApplyOptions,
         progress: kms_rotation::remediate::RemediationProgress => RemediationProgress|
            async move { ops::apply(opts, progress).await.map(ApplyResult::from) }
    }
}

pub mod rollback {
    use super::*;
    operation! {
        /// Undoes what a journal says a run changed: a dry run unless `dry_run=False`.
        rollback, rollback_async,
        |opts: ops::RollbackOptions,
         progress: kms_rotation::remediate::RemediationProgress => RemediationProgress|
            async move { ops::rollback(opts, progress).await.map(RollbackResult::from) }
    }
}

pub mod security_hub {
    use super::*;

    /// Sends a report's findings (`report=`) to AWS Security Hub (BatchImportFindings, as ASFF):
    /// each account's with that account's credentials, to each key's region or `region=`. A
    /// dict: how many were imported, and every finding that was not (`complete` is False then).
    #[pyfunction]
    #[pyo3(signature = (**options))]
    pub fn send_to_security_hub<'py>(
        py: Python<'py>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        call(py, options, false)
    }

    /// The same, as an asyncio awaitable.
    #[pyfunction]
    #[pyo3(signature = (**options))]
    pub fn send_to_security_hub_async<'py>(
        py: Python<'py>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        call(py, options, true)
    }

    #[cfg(feature = "aws")]
    fn call<'py>(
        py: Python<'py>,
        options: Option<&Bound<'py, PyDict>>,
        asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options: ops::SecurityHubOptions = self::options(py, options)?;
        let send = async move { ops::send_to_security_hub(options).await.map(Json) };
        run(py, asynchronous, Failure::default(), send)
    }

    /// The core sends to Security Hub with its AWS support only.
    #[cfg(not(feature = "aws"))]
    fn call<'py>(
        py: Python<'py>,
        _options: Option<&Bound<'py, PyDict>>,
        _asynchronous: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        Err(errors::to_py(
            py,
            kms_rotation::Error::new(
                kms_rotation::ErrorKind::Unsupported,
                "this build has no AWS support (HAS_AWS is False): it cannot reach Security Hub",
            ),
        ))
    }
}

/// An operation with no progress and no I/O worth awaiting: `options` converted, `operation`
/// run without the GIL (sync) or on the runtime (as an asyncio awaitable).
fn quick<'py, O, T>(
    py: Python<'py>,
    options: Option<&Bound<'py, PyDict>>,
    asynchronous: bool,
    operation: fn(O) -> kms_rotation::Result<T>,
) -> PyResult<Bound<'py, PyAny>>
where
    O: serde::de::DeserializeOwned + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let options: O = self::options(py, options)?;
    if asynchronous {
        return runtime::awaitable(py, async move { operation(options) });
    }
    runtime::detached(py, move || operation(options))?.into_bound_py_any(py)
}

/// Declares `$name` and `${name}_async` for an operation without progress: both take
/// `**options` and run `$operation` through [`quick`].
macro_rules! quick_operation {
    ($(#[$doc:meta])* $name:ident, $name_async:ident, $operation:expr) => {
        $(#[$doc])*
        #[pyfunction]
        #[pyo3(signature = (**options))]
        pub fn $name<'py>(
            py: Python<'py>,
            options: Option<&Bound<'py, PyDict>>,
        ) -> PyResult<Bound<'py, PyAny>> {
            quick(py, options, false, $operation)
        }

        /// The same, as an asyncio awaitable.
        #[pyfunction]
        #[pyo3(signature = (**options))]
        pub fn $name_async<'py>(
            py: Python<'py>,
            options: Option<&Bound<'py, PyDict>>,
        ) -> PyResult<Bound<'py, PyAny>> {
            quick(py, options, true, $operation)
        }
    };
}

quick_operation! {
    /// A report or a plan in one of its formats; with `output`, written there (and "" returned).
    render, render_async, ops::render
}

quick_operation! {
    /// What a finding's reason code means, why it matters and how to fix the key: `reason=` one
    /// code, else every code in the rule's order. A list of dicts.
    explain, explain_async,
    |options: ops::ExplainOptions| ops::explain(options).map(Json)
}

quick_operation! {
    /// The progress between two reports: `old=` (a `Report` or its dict) or `old_file=`, and
    /// `new=` or `new_file=`, each rechecked (an edited report is refused). A dict: the keys
    /// fixed, regressed, lapsed, newly failing, newly exempt, now in error, gone and not
    /// compared, their counts in total and per account and region, and `worse`.
    diff, diff_async,
    |options: ops::DiffOptions| ops::diff(options).map(Json)
}

quick_operation! {
    /// One report from the reports of a scan split over several jobs: `reports=` (`Report`s or
    /// their dicts) and/or `report_files=`, each rechecked. Refused: no part, an edited part,
    /// parts under different policies, overlapping parts, parts whose verdicts differ at the
    /// earliest part's time.
    merge, merge_async,
    |options: ops::MergeOptions| ops::merge(options).map(Report::from)
}

quick_operation! {
    /// The organisation baseline from the policy: `format=` `cloudformation` (the default),
    /// `conformance-pack` or `terraform`; the document's text.
    baseline, baseline_async, ops::baseline
}

quick_operation! {
    /// The least-privilege IAM policy for `mode` (`read_only`, the default, or `remediate`),
    /// with `sts:AssumeRole` on `role_arns`: the document and what each action is for, a dict.
    iam_policy, iam_policy_async, iam_policy_op
}

#[cfg(feature = "aws")]
fn iam_policy_op(
    options: ops::IamPolicyOptions,
) -> kms_rotation::Result<Json<kms_rotation::aws::permissions::IamPolicy>> {
    ops::iam_policy(options).map(Json)
}

/// The core has the IAM policy with its AWS support only.
#[cfg(not(feature = "aws"))]
fn iam_policy_op(_options: serde::de::IgnoredAny) -> kms_rotation::Result<Json<()>> {
    Err(kms_rotation::Error::new(
        kms_rotation::ErrorKind::Unsupported,
        "this build has no AWS support (HAS_AWS is False): it has no IAM policy",
    ))
}

/// `evaluate`'s options: `records` a list of key records (dicts or `KeyRecord`s) or an
/// inventory dict (`{"schema_version": 1, "keys": [...]}`, its version checked).
fn evaluate_options(
    records: &Bound<'_, PyAny>,
    policy: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<ops::EvaluateOptions> {
    let py = records.py();
    let core = |e| errors::to_py(py, e);
    let kwargs = PyDict::new(py);
    kwargs.set_item("policy", policy)?;
    kwargs.set_item("now", now)?;
    let inventory = match records.cast::<PyDict>() {
        Ok(dict) if dict.contains(pyo3::intern!(py, "keys"))? => Some(dict),
        _ => None,
    };
    let Some(inventory) = inventory else {
        kwargs.set_item("records", records)?;
        return self::options(py, Some(&kwargs));
    };
    let inventory: Inventory = from_py(inventory.as_any(), "records").map_err(core)?;
    let source = InventorySource::from_inventory(inventory).map_err(core)?;
    let mut options: ops::EvaluateOptions = self::options(py, Some(&kwargs))?;
    options.records = source.records().to_vec();
    Ok(options)
}

/// Judges key records against a policy: no I/O.
#[pyfunction]
#[pyo3(signature = (records, policy = None, now = None))]
pub fn evaluate(
    py: Python<'_>,
    records: &Bound<'_, PyAny>,
    policy: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<Report> {
    let options = evaluate_options(records, policy, now)?;
    runtime::detached(py, move || ops::evaluate(options).map(Report::from))
}

/// `evaluate`, as an asyncio awaitable (the records are converted before it is returned).
#[pyfunction]
#[pyo3(signature = (records, policy = None, now = None))]
pub fn evaluate_async<'py>(
    py: Python<'py>,
    records: &Bound<'py, PyAny>,
    policy: Option<&Bound<'py, PyAny>>,
    now: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let options = evaluate_options(records, policy, now)?;
    runtime::awaitable(py, async move { ops::evaluate(options).map(Report::from) })
}
