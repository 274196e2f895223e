//! Core errors and panics as Python exceptions.
//!
//! The classes live in `kms_rotation/_errors.py` (plain Python, so that stubs, docs and
//! `isinstance` behave like any Python exception); this module only picks the class from the
//! error's kind, never from its message, and fills in the context.

use std::any::Any;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

const ERRORS_MODULE: &str = "kms_rotation._errors";

/// The class for `kind` (`InvalidInput` -> `InvalidInputError`); the base class for a kind this
/// build of the package does not know yet.
fn class<'py>(py: Python<'py>, kind: &str) -> PyResult<Bound<'py, PyAny>> {
    let module = py.import(ERRORS_MODULE)?;
    match module.getattr(format!("{kind}Error")) {
        Ok(class) => Ok(class),
        Err(_) => module.getattr("KmsRotationError"),
    }
}

fn build(py: Python<'_>, kind: &str, message: String, context: &Bound<'_, PyDict>) -> PyErr {
    let made = class(py, kind).and_then(|class| {
        context.set_item("kind", kind)?;
        class.call((message.clone(),), Some(context))
    });
    match made {
        Ok(instance) => PyErr::from_value(instance),
        // Only when the package's Python half is missing or broken.
        Err(import_error) => {
            let err = PyRuntimeError::new_err(format!("{kind}: {message}"));
            err.set_cause(py, Some(import_error));
            err
        }
    }
}

/// The exception for a core error: its kind's class, the full message (with file, line and
/// AWS context), and every context field as an attribute.
pub fn to_py(py: Python<'_>, err: kms_rotation::Error) -> PyErr {
    let context = PyDict::new(py);
    let c = err.context();
    let filled = (|| -> PyResult<()> {
        context.set_item("retryable", err.is_retryable())?;
        context.set_item("code", c.code.as_deref())?;
        context.set_item("key_arn", c.key_arn.as_deref())?;
        context.set_item("region", c.region.as_deref())?;
        context.set_item("operation", c.operation.as_deref())?;
        context.set_item("request_id", c.request_id.as_deref())?;
        context.set_item("file", c.file.as_ref().map(|f| f.to_string_lossy()))?;
        context.set_item("line", c.line)?;
        context.set_item("column", c.column)?;
        context.set_item("field", c.field.as_deref())?;
        Ok(())
    })();
    if let Err(e) = filled {
        return e;
    }
    build(py, err.kind().as_str(), err.to_string(), &context)
}

/// An `UnexpectedError` with `message` (for failures of the binding itself).
pub fn unexpected(message: String) -> PyErr {
    Python::attach(|py| build(py, "Unexpected", message, &PyDict::new(py)))
}

/// A panic's payload as an `UnexpectedError`: the process goes on, the caller gets an exception.
fn from_panic(py: Python<'_>, panic: Box<dyn Any + Send>) -> PyErr {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    build(
        py,
        "Unexpected",
        format!("internal error in kms-rotation (a bug; please report it): {what}"),
        &PyDict::new(py),
    )
}

/// The outcome of work run under `catch_unwind`, as a Python result.
pub fn settle<T>(
    py: Python<'_>,
    outcome: std::thread::Result<kms_rotation::Result<T>>,
) -> PyResult<T> {
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(to_py(py, err)),
        Err(panic) => Err(from_panic(py, panic)),
    }
}
