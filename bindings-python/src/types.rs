//! The typed objects: thin, immutable wrappers over the core's values, with attribute access
//! and `to_dict()` / `to_json()` in the JSON shape of `formats.md`. The converter reads each of
//! them as the core value it wraps ([`core_value`]), so any option takes them where it takes
//! the dict.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use kms_rotation::ops::{self, RenderOptions};
use kms_rotation::remediate::{
    ApplyOutcome, Plan as CorePlan, RemediationProgress as CoreRemediationProgress, RollbackOutcome,
};
use kms_rotation::source::ProgressUpdate;
use kms_rotation::{Finding as CoreFinding, KeyRecord as CoreRecord, Policy as CorePolicy};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};

use crate::convert::{self, from_py, to_py, wire_name};
use crate::{errors, runtime};

/// `to_json()` for any serde value: compact by default, indented with `indent`.
fn json_text<T: serde::Serialize>(value: &T, indent: Option<usize>) -> PyResult<String> {
    let text = match indent {
        None => serde_json::to_string(value),
        Some(width) => {
            let indent = vec![b' '; width];
            let mut out = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(&indent);
            let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
            value
                .serialize(&mut ser)
                .map(|()| String::from_utf8_lossy(&out).into_owned())
        }
    };
    text.map_err(|e| errors::unexpected(format!("cannot serialize: {e}")))
}

fn core_err(py: Python<'_>) -> impl Fn(kms_rotation::Error) -> PyErr + '_ {
    move |e| errors::to_py(py, e)
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// A pyclass wrapping `Arc<core value>`, with `to_dict`, `to_json`, `__eq__` and the methods
/// given.
macro_rules! wrapper {
    ($(#[$meta:meta])* $name:ident($inner:ty) { $($methods:tt)* }) => {
        $(#[$meta])*
        #[pyclass(module = "kms_rotation", frozen)]
        #[derive(Debug, Clone)]
        pub struct $name {
            pub inner: Arc<$inner>,
        }

        impl From<$inner> for $name {
            fn from(inner: $inner) -> Self {
                $name { inner: Arc::new(inner) }
            }
        }

        #[pymethods]
        impl $name {
            $($methods)*

            /// The value in its JSON shape (`formats.md`): dicts, lists, str, int, bool, None.
            fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                to_py(py, &*self.inner)
            }

            /// The value's JSON text: compact, or indented by `indent` spaces.
            #[pyo3(signature = (indent = None))]
            fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
                json_text(&*self.inner, indent)
            }

            fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
                other
                    .cast::<$name>()
                    .is_ok_and(|o| o.get().inner == self.inner)
            }
        }
    };
}

/// The core value behind one of the binding's objects, as JSON: what the converter reads in its
/// place. `None` for any other object.
pub fn core_value(obj: &Bound<'_, PyAny>) -> Option<serde_json::Result<serde_json::Value>> {
    macro_rules! any_of {
        ($($class:ty),*) => {
            $(if let Ok(o) = obj.cast::<$class>() {
                return Some(serde_json::to_value(&*o.get().inner));
            })*
        };
    }
    any_of!(
        Policy,
        KeyRecord,
        Report,
        Plan,
        Finding,
        Summary,
        ApplyResult,
        RollbackResult
    );
    None
}

wrapper! {
    /// The policy keys are judged by (`rule.md`). Every argument is optional, with the defaults
    /// of `rule.md`; the same fields as a policy file.
    Policy(CorePolicy) {
        #[new]
        #[pyo3(signature = (**fields))]
        fn new(py: Python<'_>, fields: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
            let given = PyDict::new(py);
            for (name, value) in fields.into_iter().flat_map(|f| f.iter()) {
                if !value.is_none() {
                    given.set_item(name, value)?;
                }
            }
            Self::parse(given.as_any()).map_err(core_err(py))
        }

        /// A policy from a dict in the policy file's shape.
        #[classmethod]
        fn from_dict(_cls: &Bound<'_, PyType>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
            Self::parse(data).map_err(core_err(data.py()))
        }

        /// A policy from a JSON or YAML file (by extension).
        #[classmethod]
        fn from_file(cls: &Bound<'_, PyType>, path: PathBuf) -> PyResult<Self> {
            runtime::detached(cls.py(), || CorePolicy::from_file(&path)).map(Policy::from)
        }

        /// A copy of this policy with the exceptions of an exceptions file
        /// (`{"exceptions": [...]}`, JSON or YAML) added.
        fn with_exceptions_file(&self, py: Python<'_>, path: PathBuf) -> PyResult<Self> {
            let mut inner = (*self.inner).clone();
            runtime::detached(py, || inner.add_exceptions_file(&path).map(|()| inner))
                .map(Policy::from)
        }

        /// A copy of this policy with `exceptions` (dicts in the exceptions file's shape) added.
        fn with_exceptions(&self, exceptions: &Bound<'_, PyAny>) -> PyResult<Self> {
            let added: Vec<kms_rotation::Exception> =
                from_py(exceptions, "exceptions").map_err(core_err(exceptions.py()))?;
            let mut inner = (*self.inner).clone();
            inner.exceptions.extend(added);
            Ok(Policy::from(inner))
        }

        #[getter]
        fn max_rotation_period_days(&self) -> u32 {
            self.inner.max_rotation_period_days.days()
        }
        #[getter]
        fn target_rotation_period_days(&self) -> u32 {
            self.inner.target_rotation_period_days.days()
        }
        #[getter]
        fn disabled_keys(&self) -> String {
            wire_name(&self.inner.disabled_keys)
        }
        #[getter]
        fn imported_key_max_age_days(&self) -> Option<u32> {
            self.inner.imported_key_max_age_days
        }
        /// The exceptions, as dicts.
        #[getter]
        fn exceptions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_py(py, &self.inner.exceptions)
        }

        fn __repr__(&self) -> String {
            format!(
                "Policy(max_rotation_period_days={}, target_rotation_period_days={}, \
                 disabled_keys='{}', imported_key_max_age_days={}, exceptions=<{}>)",
                self.inner.max_rotation_period_days.days(),
                self.inner.target_rotation_period_days.days(),
                wire_name(&self.inner.disabled_keys),
                self.inner
                    .imported_key_max_age_days
                    .map_or_else(|| "None".to_owned(), |d| d.to_string()),
                self.inner.exceptions.len()
            )
        }
    }
}

impl Policy {
    fn parse(data: &Bound<'_, PyAny>) -> kms_rotation::Result<Self> {
        let inner: CorePolicy = from_py(data, "policy")?;
        inner
            .validate()
            .map_err(|e| match e.context().field.clone() {
                Some(field) => e.with_field(format!("policy.{field}")),
                None => e,
            })?;
        Ok(Policy::from(inner))
    }
}

/// A wrapper of a key's facts (a record or a finding): the getters both share, then `$methods`.
macro_rules! key_wrapper {
    ($(#[$meta:meta])* $name:ident($inner:ty) { $($methods:tt)* }) => {
        wrapper! {
            $(#[$meta])*
            $name($inner) {
                #[getter]
                fn arn(&self) -> &str {
                    &self.inner.arn
                }
                #[getter]
                fn account_id(&self) -> &str {
                    &self.inner.account_id
                }
                #[getter]
                fn region(&self) -> &str {
                    &self.inner.region
                }
                #[getter]
                fn key_id(&self) -> &str {
                    &self.inner.key_id
                }
                /// `None` when the aliases were not read (or their read failed), not "no
                /// aliases".
                #[getter]
                fn aliases(&self) -> Option<Vec<String>> {
                    self.inner.aliases.clone()
                }
                /// `None` when the tags were not read (or their read failed), not "no tags".
                #[getter]
                fn tags(&self) -> Option<BTreeMap<String, String>> {
                    self.inner.tags.as_ref().map(BTreeMap::from)
                }
                #[getter]
                fn key_manager(&self) -> Option<&'static str> {
                    self.inner.key_manager.map(|v| v.as_str())
                }
                #[getter]
                fn key_spec(&self) -> Option<&'static str> {
                    self.inner.key_spec.map(|v| v.as_str())
                }
                #[getter]
                fn key_usage(&self) -> Option<&'static str> {
                    self.inner.key_usage.map(|v| v.as_str())
                }
                #[getter]
                fn origin(&self) -> Option<&'static str> {
                    self.inner.origin.map(|v| v.as_str())
                }
                #[getter]
                fn custom_key_store_id(&self) -> Option<&str> {
                    self.inner.custom_key_store_id.as_deref()
                }
                #[getter]
                fn key_state(&self) -> Option<&'static str> {
                    self.inner.key_state.map(|v| v.as_str())
                }
                #[getter]
                fn creation_date<'py>(
                    &self,
                    py: Python<'py>,
                ) -> PyResult<Option<Bound<'py, PyAny>>> {
                    self.inner
                        .creation_date
                        .as_ref()
                        .map(|d| convert::datetime(py, d))
                        .transpose()
                }
                #[getter]
                fn multi_region<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    to_py(py, &self.inner.multi_region)
                }
                #[getter]
                fn rotation<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    to_py(py, &self.inner.rotation)
                }
                /// Every read that failed for this key.
                #[getter]
                fn errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    to_py(py, &self.inner.errors)
                }
                /// Where a key read from code is declared (file, line, address); `None` for a
                /// key read from AWS.
                #[getter]
                fn location<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    to_py(py, &self.inner.location)
                }

                $($methods)*
            }
        }
    };
}

key_wrapper! {
    /// One key as a source saw it (the inventory record of `formats.md`).
    KeyRecord(CoreRecord) {
        /// A record from a dict in the inventory shape; checked like an inventory file's.
        #[classmethod]
        fn from_dict(_cls: &Bound<'_, PyType>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
            from_py::<CoreRecord>(data, "record")
                .map(KeyRecord::from)
                .map_err(core_err(data.py()))
        }

        fn __repr__(&self) -> String {
            format!("KeyRecord(arn='{}')", self.inner.arn)
        }
    }
}

key_wrapper! {
    /// The rule's verdict on one key, with the evidence it used (`formats.md`).
    Finding(CoreFinding) {
        /// `pass`, `fail`, `not_applicable`, `exempt` or `error`.
        #[getter]
        fn status(&self) -> &'static str {
            self.inner.status.as_str()
        }
        /// The machine-readable reason (`rule.md`), e.g. `rotation_disabled`.
        #[getter]
        fn reason(&self) -> &'static str {
            self.inner.reason.as_str()
        }
        /// `informational`, `low` or `medium`, from the status and reason (`rule.md`).
        #[getter]
        fn severity(&self) -> &'static str {
            self.inner.severity.as_str()
        }
        /// The controls the finding is about, e.g. `aws-security-hub/KMS.4`.
        #[getter]
        fn controls(&self) -> Vec<&'static str> {
            self.inner.controls.iter().map(|c| c.as_str()).collect()
        }
        /// One line for people: what is wrong (or right) with the key.
        #[getter]
        fn message(&self) -> &str {
            &self.inner.message
        }
        #[getter]
        fn remediable(&self) -> bool {
            self.inner.remediable
        }
        #[getter]
        fn remediation_target(&self) -> Option<&str> {
            self.inner.remediation_target.as_deref()
        }
        /// `reported` or `assumed_default` when the rule used a rotation period.
        #[getter]
        fn period_source(&self) -> Option<String> {
            self.inner.period_source.as_ref().map(wire_name)
        }
        /// The exception that matched a would-be failing key (with `expired`), as a dict.
        #[getter]
        fn exception<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_py(py, &self.inner.exception)
        }
        /// For `error` findings: `{"operation", "code", "message"}`.
        #[getter]
        fn error<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_py(py, &self.inner.error)
        }

        /// The key as a record again (for saved inventories).
        fn to_record(&self) -> KeyRecord {
            KeyRecord::from(self.inner.to_record())
        }

        fn __repr__(&self) -> String {
            format!(
                "Finding(arn='{}', status='{}', reason='{}')",
                self.inner.arn,
                self.inner.status.as_str(),
                self.inner.reason.as_str()
            )
        }
    }
}

wrapper! {
    /// A report's summary: counts by status, reason, region and account.
    Summary(kms_rotation::Summary) {
        /// True exactly when no finding is `fail`.
        #[getter]
        fn compliant(&self) -> bool {
            self.inner.compliant
        }
        /// False when a region or account could not be listed (see `Report.scope_errors`).
        #[getter]
        fn complete(&self) -> bool {
            self.inner.complete
        }
        #[getter]
        fn total(&self) -> usize {
            self.inner.by_status.total
        }
        /// `{"total": n, "pass": n, "fail": n, "not_applicable": n, "exempt": n, "error": n}`.
        #[getter]
        fn by_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_py(py, &self.inner.by_status)
        }
        #[getter]
        fn by_reason<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_py(py, &self.inner.by_reason)
        }
        #[getter]
        fn by_region<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_py(py, &self.inner.by_region)
        }
        #[getter]
        fn by_account<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_py(py, &self.inner.by_account)
        }

        fn __repr__(&self) -> String {
            let c = &self.inner.by_status;
            format!(
                "Summary(compliant={}, complete={}, total={}, pass={}, fail={}, \
                 not_applicable={}, exempt={}, error={})",
                py_bool(self.inner.compliant),
                py_bool(self.inner.complete),
                c.total,
                c.pass,
                c.fail,
                c.not_applicable,
                c.exempt,
                c.error
            )
        }
    }
}

wrapper! {
    /// A scan's or evaluation's result: every finding in a stable order (account, region, ARN),
    /// a summary, and what could not be scanned.
    Report(kms_rotation::Report) {
        /// A report from a dict in the report's JSON shape (e.g. a saved `to_dict()`).
        #[classmethod]
        fn from_dict(_cls: &Bound<'_, PyType>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
            from_py::<kms_rotation::Report>(data, "report")
                .map(Report::from)
                .map_err(core_err(data.py()))
        }

        /// A report from its JSON text (e.g. a saved `render("json")`).
        #[classmethod]
        fn from_json(cls: &Bound<'_, PyType>, text: &str) -> PyResult<Self> {
            use kms_rotation::input::{Syntax, parse};
            parse::<kms_rotation::Report>(text, Syntax::Json)
                .map(Report::from)
                .map_err(core_err(cls.py()))
        }

        #[getter]
        fn schema_version(&self) -> u32 {
            self.inner.schema_version
        }
        #[getter]
        fn generated_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            convert::datetime(py, &self.inner.generated_at)
        }
        #[getter]
        fn policy(&self) -> Policy {
            Policy::from(self.inner.policy.clone())
        }
        /// `{"source": ..., "accounts": [...], "regions": [...]}`.
        #[getter]
        fn scope<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_py(py, &self.inner.scope)
        }
        #[getter]
        fn summary(&self) -> Summary {
            Summary::from(self.inner.summary.clone())
        }
        #[getter]
        fn findings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
            PyList::new(py, self.inner.findings.iter().cloned().map(Finding::from))
        }
        /// Regions or accounts that could not be listed at all, as dicts.
        #[getter]
        fn scope_errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_py(py, &self.inner.scope_errors)
        }
        /// True exactly when no finding is `fail`.
        #[getter]
        fn compliant(&self) -> bool {
            self.inner.is_compliant()
        }
        /// False when a region or account could not be listed.
        #[getter]
        fn complete(&self) -> bool {
            self.inner.is_complete()
        }

        /// The report in `format` (one of `FORMATS`), as `render(report=..., format=...)`.
        #[pyo3(signature = (format = "json"))]
        fn render(&self, py: Python<'_>, format: &str) -> PyResult<String> {
            let options = RenderOptions {
                report: Some((*self.inner).clone()),
                format: Some(format.to_owned()),
                ..RenderOptions::default()
            };
            runtime::detached(py, move || ops::render(options))
        }

        /// Writes the report to `path` (atomically: a reader never sees half a file) in
        /// `format`, or, when none is given, the format the file name ends with (`.json`,
        /// `.csv`, `.md`, `.html`, `.sarif`, `.ocsf.json`, `.asff.json`...).
        #[pyo3(signature = (path, format = None))]
        fn write(&self, py: Python<'_>, path: PathBuf, format: Option<String>) -> PyResult<()> {
            let options = RenderOptions {
                report: Some((*self.inner).clone()),
                format,
                output: Some(path),
                ..RenderOptions::default()
            };
            runtime::detached(py, move || ops::render(options)).map(drop)
        }

        fn __len__(&self) -> usize {
            self.inner.findings.len()
        }

        fn __repr__(&self) -> String {
            let c = &self.inner.summary.by_status;
            format!(
                "Report(source='{}', total={}, fail={}, compliant={}, complete={})",
                self.inner.scope.source,
                c.total,
                c.fail,
                py_bool(self.inner.is_compliant()),
                py_bool(self.inner.is_complete())
            )
        }
    }
}

wrapper! {
    /// A remediation plan: actions in execution order (`enable_rotation` on each target,
    /// batched) and the findings skipped, with reasons (`formats.md`).
    Plan(CorePlan) {
        /// A plan from a plan file (JSON, or YAML by extension), checked completely.
        #[classmethod]
        fn from_file(cls: &Bound<'_, PyType>, path: PathBuf) -> PyResult<Self> {
            runtime::detached(cls.py(), || CorePlan::from_file(&path)).map(Plan::from)
        }

        /// A plan from a dict in the plan file's shape, checked completely.
        #[classmethod]
        fn from_dict(_cls: &Bound<'_, PyType>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
            let plan: CorePlan = from_py(data, "plan").map_err(core_err(data.py()))?;
            plan.validate().map_err(core_err(data.py()))?;
            Ok(Plan::from(plan))
        }

        #[getter]
        fn schema_version(&self) -> u32 {
            self.inner.schema_version
        }
        #[getter]
        fn generated_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            convert::datetime(py, &self.inner.generated_at)
        }
        #[getter]
        fn policy(&self) -> Policy {
            Policy::from(self.inner.policy.clone())
        }
        /// `[{"action", "target_arn", "region", "account_id", "rotation_period_days", "batch",
        /// "priority", "priority_reason", "because"}]`, in execution order.
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

        /// The plan in `format` (one of `PLAN_FORMATS`: `json`, the plan file; `table`;
        /// `script`), as `render(plan=..., format=...)`.
        #[pyo3(signature = (format = "json"))]
        fn render(&self, py: Python<'_>, format: &str) -> PyResult<String> {
            let options = RenderOptions {
                plan: Some((*self.inner).clone()),
                format: Some(format.to_owned()),
                ..RenderOptions::default()
            };
            runtime::detached(py, move || ops::render(options))
        }

        fn __len__(&self) -> usize {
            self.inner.actions.len()
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
}

wrapper! {
    /// What an apply run did: one result per action, in plan order.
    ApplyResult(ApplyOutcome) {
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
        /// Why the journal could not be written, or None. When set, the run stopped sending
        /// writes and `success` is False.
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
        /// Every action remediated, skipped or (dry run) would be remediated, and the journal
        /// took every event.
        #[getter]
        fn success(&self) -> bool {
            self.inner.is_success()
        }
        /// Raises the first failed action (status `failed`) as its `KmsRotationError` subclass
        /// (`ThrottledError` for `ThrottlingException`...), with `key_arn`, `region`,
        /// `operation` and `code`; returns None when no action failed.
        fn raise_for_failure(&self, py: Python<'_>) -> PyResult<()> {
            match self.inner.failure() {
                Some(err) => Err(errors::to_py(py, err)),
                None => Ok(()),
            }
        }

        fn __repr__(&self) -> String {
            format!(
                "ApplyResult(run_id='{}', dry_run={}, results={}, success={})",
                self.inner.run_id,
                py_bool(self.inner.dry_run),
                self.inner.results.len(),
                py_bool(self.inner.is_success())
            )
        }
    }
}

wrapper! {
    /// What a rollback did: one result per key to undo.
    RollbackResult(RollbackOutcome) {
        #[getter]
        fn run_id(&self) -> &str {
            &self.inner.run_id
        }
        #[getter]
        fn dry_run(&self) -> bool {
            self.inner.dry_run
        }
        /// `[{"target_arn", "status", "reason", "restore", "current", "error",
        /// "possibly_applied"}]`; `status` is `rolled_back`, `skipped`, `failed`,
        /// `would_roll_back` or `not_attempted`.
        #[getter]
        fn results<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_py(py, &self.inner.results)
        }
        /// Why the journal could not be written, or None (no write was sent after that).
        #[getter]
        fn journal_error(&self) -> Option<&str> {
            self.inner.journal_error.as_deref()
        }
        /// Torn last lines found in the journal (an interrupted run), ignored; one message
        /// each.
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

        fn __repr__(&self) -> String {
            format!(
                "RollbackResult(run_id='{}', dry_run={}, results={})",
                self.inner.run_id,
                py_bool(self.inner.dry_run),
                self.inner.results.len()
            )
        }
    }
}

/// Progress of a scan, passed to the `progress` callback (cumulative counts).
#[pyclass(module = "kms_rotation", frozen, eq)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Keys found by listing so far.
    #[pyo3(get)]
    pub keys_listed: usize,
    /// Keys whose facts have all been read so far.
    #[pyo3(get)]
    pub keys_read: usize,
}

#[pymethods]
impl Progress {
    fn __repr__(&self) -> String {
        format!(
            "Progress(keys_listed={}, keys_read={})",
            self.keys_listed, self.keys_read
        )
    }
}

impl From<ProgressUpdate> for Progress {
    fn from(update: ProgressUpdate) -> Self {
        Progress {
            keys_listed: update.keys_listed,
            keys_read: update.keys_read,
        }
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

impl From<CoreRemediationProgress> for RemediationProgress {
    fn from(update: CoreRemediationProgress) -> Self {
        RemediationProgress {
            done: update.done,
            total: update.total,
        }
    }
}
