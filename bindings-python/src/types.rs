//! The typed result objects: thin, immutable wrappers over the core's values, with attribute
//! access and `to_dict()` / `to_json()` in the JSON shape of `formats.md`.

use std::path::PathBuf;
use std::sync::Arc;

use kms_rotation::{Finding as CoreFinding, KeyRecord as CoreRecord, Policy as CorePolicy};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};

use crate::convert::{self, from_py, to_py, wire_name};
use crate::errors;

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

// ---------------------------------------------------------------------------------------------

/// The policy keys are judged by (`rule.md`). Every argument is optional, with the defaults of
/// `rule.md`; the same fields as a policy file.
#[pyclass(module = "kms_rotation", frozen)]
#[derive(Debug, Clone)]
pub struct Policy {
    pub inner: CorePolicy,
}

#[pymethods]
impl Policy {
    #[new]
    #[pyo3(signature = (
        *,
        max_rotation_period_days = None,
        target_rotation_period_days = None,
        disabled_keys = None,
        imported_key_max_age_days = None,
        exceptions = None,
    ))]
    fn new(
        py: Python<'_>,
        max_rotation_period_days: Option<Bound<'_, PyAny>>,
        target_rotation_period_days: Option<Bound<'_, PyAny>>,
        disabled_keys: Option<Bound<'_, PyAny>>,
        imported_key_max_age_days: Option<Bound<'_, PyAny>>,
        exceptions: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let fields = PyDict::new(py);
        for (name, value) in [
            ("max_rotation_period_days", max_rotation_period_days),
            ("target_rotation_period_days", target_rotation_period_days),
            ("disabled_keys", disabled_keys),
            ("imported_key_max_age_days", imported_key_max_age_days),
            ("exceptions", exceptions),
        ] {
            if let Some(value) = value {
                fields.set_item(name, value)?;
            }
        }
        Self::parse(fields.as_any()).map_err(core_err(py))
    }

    /// A policy from a dict in the policy file's shape.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        Self::parse(data).map_err(core_err(data.py()))
    }

    /// A policy from a JSON or YAML file (by extension).
    #[classmethod]
    fn from_file(cls: &Bound<'_, PyType>, path: PathBuf) -> PyResult<Self> {
        let py = cls.py();
        crate::runtime::detached(py, || CorePolicy::from_file(&path)).map(|inner| Policy { inner })
    }

    /// A copy of this policy with the exceptions of an exceptions file (`{"exceptions": [...]}`,
    /// JSON or YAML) added.
    fn with_exceptions_file(&self, py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let mut inner = self.inner.clone();
        crate::runtime::detached(py, || inner.add_exceptions_file(&path).map(|()| inner))
            .map(|inner| Policy { inner })
    }

    /// A copy of this policy with `exceptions` (dicts in the exceptions file's shape) added.
    fn with_exceptions(&self, exceptions: &Bound<'_, PyAny>) -> PyResult<Self> {
        let added: Vec<kms_rotation::Exception> =
            from_py(exceptions, "exceptions").map_err(core_err(exceptions.py()))?;
        let mut inner = self.inner.clone();
        inner.exceptions.extend(added);
        Ok(Policy { inner })
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

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner)
    }

    #[pyo3(signature = (indent = None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_text(&self.inner, indent)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Policy>()
            .is_ok_and(|o| o.get().inner == self.inner)
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

impl Policy {
    pub fn parse(data: &Bound<'_, PyAny>) -> kms_rotation::Result<Self> {
        let inner: CorePolicy = from_py(data, "policy")?;
        inner
            .validate()
            .map_err(|e| match e.context().field.clone() {
                Some(field) => e.with_field(format!("policy.{field}")),
                None => e,
            })?;
        Ok(Policy { inner })
    }

    /// `policy=` as the functions take it: None, a `Policy`, a dict, or a file path.
    pub fn from_arg(arg: Option<&Bound<'_, PyAny>>) -> PyResult<CorePolicy> {
        let Some(arg) = arg.filter(|a| !a.is_none()) else {
            return Ok(CorePolicy::default());
        };
        let py = arg.py();
        if let Ok(policy) = arg.cast::<Policy>() {
            return Ok(policy.get().inner.clone());
        }
        if let Ok(path) = arg.extract::<PathBuf>() {
            return crate::runtime::detached(py, || CorePolicy::from_file(&path));
        }
        Self::parse(arg).map(|p| p.inner).map_err(core_err(py))
    }
}

// ---------------------------------------------------------------------------------------------

/// One key as a source saw it (the inventory record of `formats.md`).
#[pyclass(module = "kms_rotation", frozen)]
#[derive(Debug, Clone)]
pub struct KeyRecord {
    pub inner: Arc<CoreRecord>,
}

#[pymethods]
impl KeyRecord {
    /// A record from a dict in the inventory shape; checked like an inventory file's.
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        from_py::<CoreRecord>(data, "record")
            .map(|r| KeyRecord { inner: Arc::new(r) })
            .map_err(core_err(data.py()))
    }

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
    /// `None` when the aliases were not read (or their read failed), not "no aliases".
    #[getter]
    fn aliases(&self) -> Option<Vec<String>> {
        self.inner.aliases.clone()
    }
    /// `None` when the tags were not read (or their read failed), not "no tags".
    #[getter]
    fn tags(&self) -> Option<std::collections::BTreeMap<String, String>> {
        self.inner.tags.clone()
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
    fn creation_date<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
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
    #[getter]
    fn errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.errors)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.inner)
    }

    #[pyo3(signature = (indent = None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_text(&*self.inner, indent)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<KeyRecord>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }

    fn __repr__(&self) -> String {
        format!("KeyRecord(arn='{}')", self.inner.arn)
    }
}

// ---------------------------------------------------------------------------------------------

/// The rule's verdict on one key, with the evidence it used (`formats.md`).
#[pyclass(module = "kms_rotation", frozen)]
#[derive(Debug, Clone)]
pub struct Finding {
    pub inner: Arc<CoreFinding>,
}

#[pymethods]
impl Finding {
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
    #[getter]
    fn remediable(&self) -> bool {
        self.inner.remediable
    }
    #[getter]
    fn remediation_target(&self) -> Option<&str> {
        self.inner.remediation_target.as_deref()
    }
    /// `None` when the aliases were not read (or their read failed), not "no aliases".
    #[getter]
    fn aliases(&self) -> Option<Vec<String>> {
        self.inner.aliases.clone()
    }
    /// `None` when the tags were not read (or their read failed), not "no tags".
    #[getter]
    fn tags(&self) -> Option<std::collections::BTreeMap<String, String>> {
        self.inner.tags.clone()
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
    fn creation_date<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
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
    /// Every read that failed for this key, deciding or not.
    #[getter]
    fn errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.errors)
    }

    /// The key as a record again (for saved inventories).
    fn to_record(&self) -> KeyRecord {
        KeyRecord {
            inner: Arc::new(self.inner.to_record()),
        }
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.inner)
    }

    #[pyo3(signature = (indent = None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_text(&*self.inner, indent)
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Finding>()
            .is_ok_and(|o| o.get().inner == self.inner)
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

// ---------------------------------------------------------------------------------------------

/// A report's summary: counts by status, reason, region and account.
#[pyclass(module = "kms_rotation", frozen)]
#[derive(Debug, Clone)]
pub struct Summary {
    pub inner: kms_rotation::Summary,
}

#[pymethods]
impl Summary {
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

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner)
    }

    #[pyo3(signature = (indent = None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_text(&self.inner, indent)
    }

    fn __repr__(&self) -> String {
        let c = &self.inner.by_status;
        format!(
            "Summary(compliant={}, complete={}, total={}, pass={}, fail={}, not_applicable={}, \
             exempt={}, error={})",
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

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

// ---------------------------------------------------------------------------------------------

/// A scan's or evaluation's result: every finding in a stable order (account, region, ARN), a
/// summary, and what could not be scanned.
#[pyclass(module = "kms_rotation", frozen)]
#[derive(Debug, Clone)]
pub struct Report {
    pub inner: Arc<kms_rotation::Report>,
}

#[pymethods]
impl Report {
    /// A report from a dict in the report's JSON shape (e.g. a saved `to_dict()`).
    #[classmethod]
    fn from_dict(_cls: &Bound<'_, PyType>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        from_py::<kms_rotation::Report>(data, "report")
            .map(|r| Report { inner: Arc::new(r) })
            .map_err(core_err(data.py()))
    }

    /// A report from its JSON text (e.g. a saved `render("json")`).
    #[classmethod]
    fn from_json(cls: &Bound<'_, PyType>, text: &str) -> PyResult<Self> {
        let py = cls.py();
        kms_rotation::input::parse::<kms_rotation::Report>(text, kms_rotation::input::Syntax::Json)
            .map(|r| Report { inner: Arc::new(r) })
            .map_err(core_err(py))
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
        Policy {
            inner: self.inner.policy.clone(),
        }
    }
    /// `{"source": ..., "accounts": [...], "regions": [...]}`.
    #[getter]
    fn scope<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.scope)
    }
    #[getter]
    fn summary(&self) -> Summary {
        Summary {
            inner: self.inner.summary.clone(),
        }
    }
    #[getter]
    fn findings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            self.inner.findings.iter().map(|f| Finding {
                inner: Arc::new(f.clone()),
            }),
        )
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

    /// The report in `format` (one of `FORMATS`: `json`, `ndjson`, ...), as the CLI writes it.
    #[pyo3(signature = (format = "json"))]
    fn render(&self, py: Python<'_>, format: &str) -> PyResult<String> {
        let format: kms_rotation::Format = format.parse().map_err(core_err(py))?;
        let report = self.inner.clone();
        crate::runtime::detached(py, move || report.render_to_string(format))
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &*self.inner)
    }

    #[pyo3(signature = (indent = None))]
    fn to_json(&self, indent: Option<usize>) -> PyResult<String> {
        json_text(&*self.inner, indent)
    }

    fn __len__(&self) -> usize {
        self.inner.findings.len()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<Report>()
            .is_ok_and(|o| o.get().inner == self.inner)
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

// ---------------------------------------------------------------------------------------------

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
