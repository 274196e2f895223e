//! The Python binding of kms-rotation: the native half (`kms_rotation._native`) of the
//! `kms_rotation` package. It converts arguments into the core's options types
//! (`kms_rotation::ops`), calls the operation and maps its errors; every rule, default and check
//! lives in the core.

mod convert;
mod errors;
mod ops;
mod runtime;
mod types;

use std::path::PathBuf;

use pyo3::prelude::*;

/// Reads a policy file (JSON or YAML, by extension), like the CLI's `--policy`.
#[pyfunction]
fn load_policy(py: Python<'_>, path: PathBuf) -> PyResult<types::Policy> {
    runtime::detached(py, || kms_rotation::Policy::from_file(&path)).map(types::Policy::from)
}

/// Panics inside the binding, sync or as an awaitable: lets the tests check that a panic
/// becomes `UnexpectedError` and never crashes the interpreter.
#[pyfunction]
#[pyo3(signature = (message, awaitable = false))]
fn _panic_for_tests<'py>(
    py: Python<'py>,
    message: String,
    awaitable: bool,
) -> PyResult<Bound<'py, PyAny>> {
    if awaitable {
        runtime::awaitable(py, async move {
            if !message.is_empty() {
                panic!("{message}");
            }
            Ok(())
        })
    } else {
        runtime::detached(py, move || -> kms_rotation::Result<()> {
            panic!("{message}")
        })
        .map(|()| py.None().into_bound(py))
    }
}

/// Stops the package's runtime (called by `atexit`; a later call starts a new one).
#[pyfunction]
fn _shutdown(py: Python<'_>) {
    runtime::shutdown(py, std::time::Duration::from_secs(5));
}

#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<types::Policy>()?;
    m.add_class::<types::KeyRecord>()?;
    m.add_class::<types::Finding>()?;
    m.add_class::<types::Summary>()?;
    m.add_class::<types::Report>()?;
    m.add_class::<types::Progress>()?;
    m.add_class::<types::Plan>()?;
    m.add_class::<types::ApplyResult>()?;
    m.add_class::<types::RollbackResult>()?;
    m.add_class::<types::RemediationProgress>()?;
    m.add_function(wrap_pyfunction!(ops::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(ops::evaluate_async, m)?)?;
    m.add_function(wrap_pyfunction!(ops::scan::scan, m)?)?;
    m.add_function(wrap_pyfunction!(ops::scan::scan_async, m)?)?;
    m.add_function(wrap_pyfunction!(ops::plan::plan, m)?)?;
    m.add_function(wrap_pyfunction!(ops::plan::plan_async, m)?)?;
    m.add_function(wrap_pyfunction!(ops::exceptions::review_exceptions, m)?)?;
    m.add_function(wrap_pyfunction!(
        ops::exceptions::review_exceptions_async,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(ops::apply::apply, m)?)?;
    m.add_function(wrap_pyfunction!(ops::apply::apply_async, m)?)?;
    m.add_function(wrap_pyfunction!(ops::rollback::rollback, m)?)?;
    m.add_function(wrap_pyfunction!(ops::rollback::rollback_async, m)?)?;
    m.add_function(wrap_pyfunction!(ops::render, m)?)?;
    m.add_function(wrap_pyfunction!(ops::render_async, m)?)?;
    m.add_function(wrap_pyfunction!(ops::explain, m)?)?;
    m.add_function(wrap_pyfunction!(ops::explain_async, m)?)?;
    m.add_function(wrap_pyfunction!(ops::diff, m)?)?;
    m.add_function(wrap_pyfunction!(ops::diff_async, m)?)?;
    m.add_function(wrap_pyfunction!(ops::merge, m)?)?;
    m.add_function(wrap_pyfunction!(ops::merge_async, m)?)?;
    m.add_function(wrap_pyfunction!(ops::event::event, m)?)?;
    m.add_function(wrap_pyfunction!(ops::event::event_async, m)?)?;
    m.add_function(wrap_pyfunction!(ops::baseline, m)?)?;
    m.add_function(wrap_pyfunction!(ops::baseline_async, m)?)?;
    m.add_function(wrap_pyfunction!(ops::iam_policy, m)?)?;
    m.add_function(wrap_pyfunction!(ops::iam_policy_async, m)?)?;
    m.add_function(wrap_pyfunction!(
        ops::security_hub::send_to_security_hub,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(
        ops::security_hub::send_to_security_hub_async,
        m
    )?)?;
    m.add_function(wrap_pyfunction!(load_policy, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add_function(wrap_pyfunction!(_shutdown, m)?)?;
    let formats: Vec<&str> = kms_rotation::Format::ALL
        .iter()
        .map(|f| f.as_str())
        .collect();
    m.add("FORMATS", formats)?;
    let plan_formats: Vec<&str> = kms_rotation::remediate::PlanFormat::ALL
        .iter()
        .map(|f| f.as_str())
        .collect();
    m.add("PLAN_FORMATS", plan_formats)?;
    m.add("HAS_AWS", cfg!(feature = "aws"))?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
