//! Remediation: `plan_remediation` (pure), `apply` and `rollback` (AWS, journaled), sync and
//! async, converting arguments around the core's `remediate` module.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kms_rotation::remediate::{
    self, ApplyOptions, ApplyOutcome, Journal, KeyFilter, Plan as CorePlan, PlanFormat,
    PlanOptions, RemediationProgressFn, RemediationTarget, RollbackOptions, RollbackOutcome,
    Selection, TagMatch, Verify,
};
use pyo3::prelude::*;
use pyo3::types::PyType;
use serde::Deserialize;

use crate::convert::{from_py, now_arg, to_py};
use crate::errors;
use crate::runtime;
use crate::types::{Policy, Report};

fn core_err(py: Python<'_>) -> impl Fn(kms_rotation::Error) -> PyErr + '_ {
    move |e| errors::to_py(py, e)
}

fn json_text<T: serde::Serialize>(value: &T, indent: Option<usize>) -> PyResult<String> {
    let text = match indent {
        None => serde_json::to_string(value),
        Some(_) => serde_json::to_string_pretty(value),
    };
    text.map_err(|e| errors::unexpected(format!("cannot serialize: {e}")))
}

// -- Plan -------------------------------------------------------------------------------------

/// A remediation plan: actions in execution order (`enable_rotation` on each target, batched)
/// and the findings skipped, with reasons (`formats.md`).
#[pyclass(module = "kms_rotation", frozen)]
#[derive(Debug, Clone)]
pub struct Plan {
    pub inner: Arc<CorePlan>,
}

#[pymethods]
impl Plan {
    /// A plan from a plan file (JSON, or YAML by extension), checked completely.
    #[classmethod]
    fn from_file(cls: &Bound<'_, PyType>, path: PathBuf) -> PyResult<Self> {
        runtime::detached(cls.py(), || CorePlan::from_file(&path))
            .map(|p| Plan { inner: Arc::new(p) })
    }

    /// A plan from a dict in the plan file's shape, checked completely.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = data.py();
        let plan: CorePlan = from_py(data, "plan").map_err(core_err(py))?;
        plan.validate().map_err(core_err(py))?;
        Ok(Plan {
            inner: Arc::new(plan),
        })
    }

    #[getter]
    fn schema_version(&self) -> u32 {
        self.inner.schema_version
    }
    #[getter]
    fn generated_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::convert::datetime(py, &self.inner.generated_at)
    }
    #[getter]
    fn policy(&self) -> Policy {
        Policy {
            inner: self.inner.policy.clone(),
        }
    }
    /// `[{"action", "target_arn", "region", "account_id", "rotation_period_days", "batch",
    /// "priority", "because"}]`, in execution order.
    #[getter]
    fn actions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.actions)
    }
    /// `[{"arn", "reason"}]`.
    #[getter]
    fn skips<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.skips)
    }
    #[getter]
    fn batches(&self) -> usize {
        self.inner.batches()
    }

    /// The plan in `format`: `json` (the plan file), `table` or `script`.
    #[pyo3(signature = (format = "json"))]
    fn render(&self, py: Python<'_>, format: &str) -> PyResult<String> {
        let format: PlanFormat = format.parse().map_err(core_err(py))?;
        let plan = self.inner.clone();
        runtime::detached(py, move || plan.render_to_string(format))
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.inner)
    }

    #[pyo3(signature = (indent = None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_text(&*self.inner, indent)
    }

    fn __len__(&self) -> usize {
        self.inner.actions.len()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Plan>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        format!(
            "Plan(actions={}, skips={}, batches={})",
            self.inner.actions.len(),
            self.inner.skips.len(),
            self.inner.batches()
        )
    }
}

/// `include=` / `exclude=` of `plan_remediation`, the CLI's key filters.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FilterArg {
    accounts: Vec<String>,
    regions: Vec<String>,
    arns: Vec<String>,
    aliases: Vec<String>,
    /// `{"key": "value"}` or `["key=value"]`.
    tags: TagsArg,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TagsArg {
    Map(std::collections::BTreeMap<String, String>),
    List(Vec<String>),
}

impl Default for TagsArg {
    fn default() -> Self {
        TagsArg::List(Vec::new())
    }
}

impl TagsArg {
    fn into_matches(self, field: &str) -> kms_rotation::Result<Vec<TagMatch>> {
        match self {
            TagsArg::Map(map) => Ok(map.into_iter().map(|(k, v)| TagMatch::new(k, v)).collect()),
            TagsArg::List(list) => list
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    t.parse()
                        .map_err(|e: kms_rotation::Error| e.with_field(format!("{field}[{i}]")))
                })
                .collect(),
        }
    }
}

fn key_filter(arg: Option<&Bound<'_, PyAny>>, field: &str) -> kms_rotation::Result<KeyFilter> {
    let Some(arg) = arg.filter(|a| !a.is_none()) else {
        return Ok(KeyFilter::default());
    };
    let filter: FilterArg = from_py(arg, field)?;
    Ok(KeyFilter {
        accounts: filter.accounts,
        regions: filter.regions,
        arns: filter.arns,
        aliases: filter.aliases,
        tags: filter.tags.into_matches(&format!("{field}.tags"))?,
    })
}

/// Plans the fixes for a report's failing keys: pure, no AWS call.
#[pyfunction]
#[pyo3(signature = (
    report,
    *,
    target_rotation_period_days = None,
    batch_size = None,
    priorities = None,
    include = None,
    exclude = None,
    now = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn plan_remediation(
    py: Python<'_>,
    report: &Bound<'_, PyAny>,
    target_rotation_period_days: Option<u32>,
    batch_size: Option<usize>,
    priorities: Option<&Bound<'_, PyAny>>,
    include: Option<&Bound<'_, PyAny>>,
    exclude: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
) -> PyResult<Plan> {
    let core = core_err(py);
    let report: Arc<kms_rotation::Report> = match report.cast::<Report>() {
        Ok(r) => r.get().inner.clone(),
        Err(_) => Arc::new(from_py(report, "report").map_err(&core)?),
    };
    let priorities = match priorities.filter(|p| !p.is_none()) {
        None => Vec::new(),
        Some(p) => from_py::<TagsArg>(p, "priorities")
            .and_then(|t| t.into_matches("priorities"))
            .map_err(&core)?,
    };
    let defaults = PlanOptions::default();
    let options = PlanOptions {
        target_period_days: target_rotation_period_days,
        priorities,
        batch_size: batch_size.unwrap_or(defaults.batch_size),
        selection: Selection {
            include: key_filter(include, "include").map_err(&core)?,
            exclude: key_filter(exclude, "exclude").map_err(&core)?,
        },
        now: now_arg(now).map_err(&core)?,
    };
    runtime::detached(py, move || remediate::plan(&report, &options))
        .map(|p| Plan { inner: Arc::new(p) })
}

// -- apply and rollback -----------------------------------------------------------------------

/// What an apply run did: one result per action, in plan order.
#[pyclass(module = "kms_rotation", frozen)]
#[derive(Debug, Clone)]
pub struct ApplyResult {
    inner: Arc<ApplyOutcome>,
}

#[pymethods]
impl ApplyResult {
    #[getter]
    fn run_id(&self) -> &str {
        &self.inner.run_id
    }
    #[getter]
    fn dry_run(&self) -> bool {
        self.inner.dry_run
    }
    /// `[{"target_arn", "region", "account_id", "status", "reason", "before", "after",
    /// "error"}]`; `status` is `remediated`, `verification_failed`, `failed`, `skipped`,
    /// `would_remediate` or `not_attempted`.
    #[getter]
    fn results<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.results)
    }
    /// Why the run stopped early (the circuit breaker, a journal that failed), or None.
    #[getter]
    fn stopped(&self) -> Option<&str> {
        self.inner.stopped.as_deref()
    }
    /// Why the journal could not be written, or None. When set, the run stopped sending writes
    /// and `success` is False.
    #[getter]
    fn journal_error(&self) -> Option<&str> {
        self.inner.journal_error.as_deref()
    }
    /// Torn last lines an interrupted earlier run left in the journal (removed before
    /// appending), one message each.
    #[getter]
    fn journal_warnings(&self) -> Vec<String> {
        self.inner.journal_warnings.clone()
    }
    /// Every action remediated, skipped or (dry run) would be remediated, and the journal took
    /// every event.
    #[getter]
    fn success(&self) -> bool {
        self.inner.is_success()
    }
    /// Raises the first failed action (status `failed`) as its `KmsRotationError` subclass
    /// (`ThrottledError` for `ThrottlingException`...), with `key_arn`, `region`, `operation`
    /// and `code`; returns None when no action failed.
    fn raise_for_failure(&self, py: Python<'_>) -> PyResult<()> {
        match self.inner.failure() {
            Some(err) => Err(errors::to_py(py, err)),
            None => Ok(()),
        }
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.inner)
    }
    #[pyo3(signature = (indent = None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_text(&*self.inner, indent)
    }
    fn __repr__(&self) -> String {
        format!(
            "ApplyResult(run_id='{}', dry_run={}, results={}, success={})",
            self.inner.run_id,
            if self.inner.dry_run { "True" } else { "False" },
            self.inner.results.len(),
            if self.inner.is_success() {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// What a rollback did: one result per key to undo.
#[pyclass(module = "kms_rotation", frozen)]
#[derive(Debug, Clone)]
pub struct RollbackResult {
    inner: Arc<RollbackOutcome>,
}

#[pymethods]
impl RollbackResult {
    #[getter]
    fn run_id(&self) -> &str {
        &self.inner.run_id
    }
    #[getter]
    fn dry_run(&self) -> bool {
        self.inner.dry_run
    }
    /// `[{"target_arn", "status", "reason", "restore", "current", "error",
    /// "possibly_applied"}]`; `status` is `rolled_back`, `skipped`, `failed`, `would_roll_back`
    /// or `not_attempted`.
    #[getter]
    fn results<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.results)
    }
    /// Why the journal could not be written, or None (no write was sent after that).
    #[getter]
    fn journal_error(&self) -> Option<&str> {
        self.inner.journal_error.as_deref()
    }
    /// Torn last lines found in the journal (an interrupted run), ignored; one message each.
    #[getter]
    fn journal_warnings(&self) -> Vec<String> {
        self.inner.journal_warnings.clone()
    }
    /// Every key rolled back (or, dry run, would be), and the journal took every event.
    #[getter]
    fn success(&self) -> bool {
        self.inner.is_success()
    }
    /// Raises the first key whose rollback failed as its `KmsRotationError` subclass, with
    /// `key_arn`, `region`, `operation` and `code`; returns None when none failed.
    fn raise_for_failure(&self, py: Python<'_>) -> PyResult<()> {
        match self.inner.failure() {
            Some(err) => Err(errors::to_py(py, err)),
            None => Ok(()),
        }
    }
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.inner)
    }
    #[pyo3(signature = (indent = None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_text(&*self.inner, indent)
    }
    fn __repr__(&self) -> String {
        format!(
            "RollbackResult(run_id='{}', dry_run={}, results={})",
            self.inner.run_id,
            if self.inner.dry_run { "True" } else { "False" },
            self.inner.results.len()
        )
    }
}

/// Progress of `apply` (actions) or `rollback` (keys), passed to the `progress` callback after
/// each one finishes (cumulative counts).
#[pyclass(module = "kms_rotation", frozen, eq)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemediationProgress {
    /// Actions (keys) finished so far, whatever their result.
    #[pyo3(get)]
    pub done: usize,
    /// Actions in the plan (keys to undo).
    #[pyo3(get)]
    pub total: usize,
}

#[pymethods]
impl RemediationProgress {
    fn __repr__(&self) -> String {
        format!(
            "RemediationProgress(done={}, total={})",
            self.done, self.total
        )
    }
}

/// A callback that raised: its exception, kept to be raised instead of the run's result.
type ProgressFailure = Arc<Mutex<Option<PyErr>>>;

/// Calls the user's progress callback, as `scan` does: directly (sync calls, with the GIL) or
/// on the event loop's thread (async calls). After the callback raised once, it is not called
/// again.
fn progress_fn(
    py: Python<'_>,
    callback: Option<Py<PyAny>>,
    event_loop: Option<Py<PyAny>>,
    failure: &ProgressFailure,
) -> Option<RemediationProgressFn> {
    let callback = callback.filter(|c| !c.is_none(py))?;
    let failure = failure.clone();
    Some(Arc::new(move |update: remediate::RemediationProgress| {
        Python::attach(|py| {
            let progress = RemediationProgress {
                done: update.done,
                total: update.total,
            };
            let mut failed = failure.lock().unwrap_or_else(|e| e.into_inner());
            if failed.is_some() {
                return;
            }
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
    }))
}

/// `value`, unless the progress callback raised: then its exception.
fn unless_progress_failed<T>(failure: &ProgressFailure, value: PyResult<T>) -> PyResult<T> {
    let value = value?;
    match failure.lock().unwrap_or_else(|e| e.into_inner()).take() {
        Some(err) => Err(err),
        None => Ok(value),
    }
}

/// How `apply` and `rollback` reach AWS (the CLI's connection options).
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "aws"), allow(dead_code))]
pub struct Connect {
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub role_arns: Option<Vec<String>>,
    pub external_id: Option<String>,
    pub max_attempts: Option<u32>,
}

impl Connect {
    /// The AWS remediation target for keys in `regions`. Makes no AWS call.
    #[cfg(feature = "aws")]
    async fn target(
        self,
        regions: Vec<String>,
    ) -> kms_rotation::Result<Arc<dyn RemediationTarget>> {
        use kms_rotation::aws::AwsTarget;
        use kms_rotation::aws::{AwsOptions, AwsSource};
        let defaults = AwsOptions::default();
        let source = AwsSource::new(AwsOptions {
            regions,
            profile: self.profile,
            role_arns: self.role_arns.unwrap_or_default(),
            external_id: self.external_id.map(Into::into),
            endpoint_url: self.endpoint_url,
            max_attempts: self.max_attempts.unwrap_or(defaults.max_attempts),
            ..defaults
        })
        .await?;
        Ok(Arc::new(AwsTarget::from_source(Arc::new(source))))
    }

    #[cfg(not(feature = "aws"))]
    async fn target(
        self,
        _regions: Vec<String>,
    ) -> kms_rotation::Result<Arc<dyn RemediationTarget>> {
        Err(kms_rotation::Error::new(
            kms_rotation::ErrorKind::Unsupported,
            "this build of kms_rotation has no AWS access: build it with the `aws` feature",
        ))
    }
}

fn verify(attempts: Option<u32>, delay: Option<f64>) -> kms_rotation::Result<Verify> {
    let defaults = Verify::default();
    let delay = match delay {
        None => defaults.delay,
        Some(s) => Duration::try_from_secs_f64(s).map_err(|e| {
            kms_rotation::Error::invalid_input(format!("{s} seconds: {e}"))
                .with_field("verify_delay")
        })?,
    };
    Ok(Verify {
        attempts: attempts.unwrap_or(defaults.attempts),
        delay,
    })
}

fn dedup_sorted(mut values: Vec<String>) -> Vec<String> {
    values.sort_unstable();
    values.dedup();
    values
}

struct PreparedApply {
    plan: Arc<CorePlan>,
    journal: Option<PathBuf>,
    options: ApplyOptions,
    connect: Connect,
}

impl PreparedApply {
    async fn run(self) -> kms_rotation::Result<ApplyResult> {
        let regions = dedup_sorted(self.plan.actions.iter().map(|a| a.region.clone()).collect());
        // A dry run writes nothing, so it neither creates nor locks the file.
        let journal = match &self.journal {
            Some(path) if !self.options.dry_run => Journal::open(path)?,
            _ => Journal::in_memory(),
        };
        let target = self.connect.target(regions).await?;
        let outcome = remediate::apply(&self.plan, target, &self.options, &journal).await?;
        Ok(ApplyResult {
            inner: Arc::new(outcome),
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn prepare_apply(
    py: Python<'_>,
    plan: &Bound<'_, PyAny>,
    journal: Option<PathBuf>,
    dry_run: bool,
    writes_per_second: Option<u32>,
    concurrency: Option<usize>,
    max_consecutive_failures: Option<usize>,
    verify_attempts: Option<u32>,
    verify_delay: Option<f64>,
    run_id: Option<String>,
    progress: Option<RemediationProgressFn>,
    connect: Connect,
) -> PyResult<PreparedApply> {
    let core = core_err(py);
    let plan: Arc<CorePlan> = match plan.cast::<Plan>() {
        Ok(p) => p.get().inner.clone(),
        Err(_) => match plan.extract::<PathBuf>() {
            Ok(path) => Arc::new(runtime::detached(py, || CorePlan::from_file(&path))?),
            Err(_) => {
                let parsed: CorePlan = from_py(plan, "plan").map_err(&core)?;
                Arc::new(parsed)
            }
        },
    };
    plan.validate().map_err(&core)?;
    if !dry_run && journal.is_none() {
        // Changing keys without a record of how to undo them is what the journal prevents.
        return Err(core(
            kms_rotation::Error::invalid_input("a journal file is needed to change keys")
                .with_field("journal"),
        ));
    }
    let defaults = ApplyOptions::default();
    let options = ApplyOptions {
        writes_per_second: writes_per_second.unwrap_or(defaults.writes_per_second),
        concurrency: concurrency.unwrap_or(defaults.concurrency),
        max_consecutive_failures: max_consecutive_failures
            .unwrap_or(defaults.max_consecutive_failures),
        verify: verify(verify_attempts, verify_delay).map_err(&core)?,
        dry_run,
        run_id,
        progress,
    };
    options.validate().map_err(&core)?;
    Ok(PreparedApply {
        plan,
        journal,
        options,
        connect,
    })
}

/// Runs a plan against AWS, rate-limited, verifying and journaling every change. A dry run
/// (the default, as in the CLI) reads the keys and writes nothing: pass `dry_run=False` and a
/// `journal` to change keys.
#[pyfunction]
#[pyo3(signature = (
    plan,
    *,
    journal = None,
    dry_run = true,
    writes_per_second = None,
    concurrency = None,
    max_consecutive_failures = None,
    verify_attempts = None,
    verify_delay = None,
    run_id = None,
    progress = None,
    endpoint_url = None,
    profile = None,
    role_arns = None,
    external_id = None,
    max_attempts = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn apply(
    py: Python<'_>,
    plan: &Bound<'_, PyAny>,
    journal: Option<PathBuf>,
    dry_run: bool,
    writes_per_second: Option<u32>,
    concurrency: Option<usize>,
    max_consecutive_failures: Option<usize>,
    verify_attempts: Option<u32>,
    verify_delay: Option<f64>,
    run_id: Option<String>,
    progress: Option<Py<PyAny>>,
    endpoint_url: Option<String>,
    profile: Option<String>,
    role_arns: Option<Vec<String>>,
    external_id: Option<String>,
    max_attempts: Option<u32>,
) -> PyResult<ApplyResult> {
    let connect = Connect {
        endpoint_url,
        profile,
        role_arns,
        external_id,
        max_attempts,
    };
    let failure = ProgressFailure::default();
    let progress = progress_fn(py, progress, None, &failure);
    let prepared = prepare_apply(
        py,
        plan,
        journal,
        dry_run,
        writes_per_second,
        concurrency,
        max_consecutive_failures,
        verify_attempts,
        verify_delay,
        run_id,
        progress,
        connect,
    )?;
    unless_progress_failed(&failure, runtime::block_on(py, prepared.run()))
}

/// `apply`, as an asyncio awaitable.
#[pyfunction]
#[pyo3(signature = (
    plan,
    *,
    journal = None,
    dry_run = true,
    writes_per_second = None,
    concurrency = None,
    max_consecutive_failures = None,
    verify_attempts = None,
    verify_delay = None,
    run_id = None,
    progress = None,
    endpoint_url = None,
    profile = None,
    role_arns = None,
    external_id = None,
    max_attempts = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn apply_async<'py>(
    py: Python<'py>,
    plan: &Bound<'py, PyAny>,
    journal: Option<PathBuf>,
    dry_run: bool,
    writes_per_second: Option<u32>,
    concurrency: Option<usize>,
    max_consecutive_failures: Option<usize>,
    verify_attempts: Option<u32>,
    verify_delay: Option<f64>,
    run_id: Option<String>,
    progress: Option<Py<PyAny>>,
    endpoint_url: Option<String>,
    profile: Option<String>,
    role_arns: Option<Vec<String>>,
    external_id: Option<String>,
    max_attempts: Option<u32>,
) -> PyResult<Bound<'py, PyAny>> {
    let connect = Connect {
        endpoint_url,
        profile,
        role_arns,
        external_id,
        max_attempts,
    };
    let event_loop = match progress.as_ref().filter(|p| !p.is_none(py)) {
        Some(_) => Some(pyo3_async_runtimes::get_running_loop(py)?.unbind()),
        None => None,
    };
    let progress = progress_fn(py, progress, event_loop, &ProgressFailure::default());
    let prepared = prepare_apply(
        py,
        plan,
        journal,
        dry_run,
        writes_per_second,
        concurrency,
        max_consecutive_failures,
        verify_attempts,
        verify_delay,
        run_id,
        progress,
        connect,
    )?;
    runtime::awaitable(py, prepared.run())
}

struct PreparedRollback {
    journal: PathBuf,
    options: RollbackOptions,
    connect: Connect,
}

impl PreparedRollback {
    async fn run(self) -> kms_rotation::Result<RollbackResult> {
        // A real run locks the journal before reading it; a dry run only reads.
        let journal = if self.options.dry_run {
            Journal::read_only(&self.journal)?
        } else {
            Journal::open_existing(&self.journal)?
        };
        let entries = journal.read_entries()?;
        let undos = remediate::undo_list(&entries, self.options.only_run.as_deref());
        let regions = dedup_sorted(
            undos
                .iter()
                .filter_map(|u| {
                    kms_rotation::model::KeyArn::parse(&u.target_arn)
                        .ok()
                        .map(|a| a.region.to_owned())
                })
                .collect(),
        );
        let target: Arc<dyn RemediationTarget> = if undos.is_empty() {
            // Nothing to undo: no AWS configuration needed.
            Arc::new(remediate::MemoryTarget::new(std::iter::empty::<(
                String,
                remediate::RotationState,
            )>()))
        } else {
            self.connect.target(regions).await?
        };
        let outcome = remediate::rollback(&entries, target, &self.options, &journal).await?;
        Ok(RollbackResult {
            inner: Arc::new(outcome),
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn prepare_rollback(
    py: Python<'_>,
    journal: PathBuf,
    dry_run: bool,
    only_run: Option<String>,
    writes_per_second: Option<u32>,
    concurrency: Option<usize>,
    verify_attempts: Option<u32>,
    verify_delay: Option<f64>,
    run_id: Option<String>,
    progress: Option<RemediationProgressFn>,
    connect: Connect,
) -> PyResult<PreparedRollback> {
    let defaults = RollbackOptions::default();
    Ok(PreparedRollback {
        journal,
        options: RollbackOptions {
            only_run,
            writes_per_second: writes_per_second.unwrap_or(defaults.writes_per_second),
            concurrency: concurrency.unwrap_or(defaults.concurrency),
            verify: verify(verify_attempts, verify_delay).map_err(core_err(py))?,
            dry_run,
            run_id,
            progress,
        },
        connect,
    })
}

/// Undoes what a journal says an apply run changed, where the key still shows that change;
/// appends its own events to the journal. A dry run (the default) writes nothing.
#[pyfunction]
#[pyo3(signature = (
    journal,
    *,
    dry_run = true,
    only_run = None,
    writes_per_second = None,
    concurrency = None,
    verify_attempts = None,
    verify_delay = None,
    run_id = None,
    progress = None,
    endpoint_url = None,
    profile = None,
    role_arns = None,
    external_id = None,
    max_attempts = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn rollback(
    py: Python<'_>,
    journal: PathBuf,
    dry_run: bool,
    only_run: Option<String>,
    writes_per_second: Option<u32>,
    concurrency: Option<usize>,
    verify_attempts: Option<u32>,
    verify_delay: Option<f64>,
    run_id: Option<String>,
    progress: Option<Py<PyAny>>,
    endpoint_url: Option<String>,
    profile: Option<String>,
    role_arns: Option<Vec<String>>,
    external_id: Option<String>,
    max_attempts: Option<u32>,
) -> PyResult<RollbackResult> {
    let connect = Connect {
        endpoint_url,
        profile,
        role_arns,
        external_id,
        max_attempts,
    };
    let failure = ProgressFailure::default();
    let progress = progress_fn(py, progress, None, &failure);
    let prepared = prepare_rollback(
        py,
        journal,
        dry_run,
        only_run,
        writes_per_second,
        concurrency,
        verify_attempts,
        verify_delay,
        run_id,
        progress,
        connect,
    )?;
    unless_progress_failed(&failure, runtime::block_on(py, prepared.run()))
}

/// `rollback`, as an asyncio awaitable.
#[pyfunction]
#[pyo3(signature = (
    journal,
    *,
    dry_run = true,
    only_run = None,
    writes_per_second = None,
    concurrency = None,
    verify_attempts = None,
    verify_delay = None,
    run_id = None,
    progress = None,
    endpoint_url = None,
    profile = None,
    role_arns = None,
    external_id = None,
    max_attempts = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn rollback_async<'py>(
    py: Python<'py>,
    journal: PathBuf,
    dry_run: bool,
    only_run: Option<String>,
    writes_per_second: Option<u32>,
    concurrency: Option<usize>,
    verify_attempts: Option<u32>,
    verify_delay: Option<f64>,
    run_id: Option<String>,
    progress: Option<Py<PyAny>>,
    endpoint_url: Option<String>,
    profile: Option<String>,
    role_arns: Option<Vec<String>>,
    external_id: Option<String>,
    max_attempts: Option<u32>,
) -> PyResult<Bound<'py, PyAny>> {
    let connect = Connect {
        endpoint_url,
        profile,
        role_arns,
        external_id,
        max_attempts,
    };
    let event_loop = match progress.as_ref().filter(|p| !p.is_none(py)) {
        Some(_) => Some(pyo3_async_runtimes::get_running_loop(py)?.unbind()),
        None => None,
    };
    let progress = progress_fn(py, progress, event_loop, &ProgressFailure::default());
    let prepared = prepare_rollback(
        py,
        journal,
        dry_run,
        only_run,
        writes_per_second,
        concurrency,
        verify_attempts,
        verify_delay,
        run_id,
        progress,
        connect,
    )?;
    runtime::awaitable(py, prepared.run())
}
