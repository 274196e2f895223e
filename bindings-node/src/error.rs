//! Core errors as real JS `Error`s: `code` is the core's [`ErrorKind`] name, and the context the
//! core knows (key ARN, region, request id, file, line, field...) becomes properties. Callers
//! branch on `err.code`, never on message text.

use std::any::Any;

use kms_rotation::{Error, ErrorKind};
use napi::bindgen_prelude::{JsObjectValue, JsValue, Object};
use napi::{Env, Status};

/// The JS error for `err`, ready to throw or to reject a Promise with.
pub(crate) fn to_js(env: &Env, err: &Error) -> napi::Error {
    match build(env, err) {
        Ok(object) => napi::Error::from(object.to_unknown()),
        // Creating the error object itself failed (out of memory, a terminating VM): the
        // plain napi error still carries the message.
        Err(fallback) => fallback,
    }
}

fn build<'env>(env: &'env Env, err: &Error) -> napi::Result<Object<'env>> {
    let mut object = env.create_error(napi::Error::new(Status::GenericFailure, err.to_string()))?;
    object.set_named_property("code", err.kind().as_str())?;
    object.set_named_property("retryable", err.is_retryable())?;
    let c = err.context();
    let text = [
        ("keyArn", c.key_arn.as_deref()),
        ("region", c.region.as_deref()),
        ("operation", c.operation.as_deref()),
        ("awsCode", c.code.as_deref()),
        ("requestId", c.request_id.as_deref()),
        ("field", c.field.as_deref()),
    ];
    for (name, value) in text {
        if let Some(value) = value {
            object.set_named_property(name, value)?;
        }
    }
    if let Some(file) = &c.file {
        object.set_named_property("file", file.to_string_lossy().as_ref())?;
    }
    for (name, value) in [("line", c.line), ("column", c.column)] {
        if let Some(value) = value {
            object.set_named_property(name, value as f64)?;
        }
    }
    Ok(object)
}

/// A panic in the core, as an `Unexpected` error: a bug, but never a crashed process.
pub(crate) fn from_panic(payload: Box<dyn Any + Send>) -> Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_owned());
    Error::new(
        ErrorKind::Unexpected,
        format!("kms-rotation panicked (a bug; please report it): {what}"),
    )
}

/// Runs `f`, turning a panic into an `Unexpected` error.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| Err(from_panic(p)))
}

/// An error about JSON the binding made from the caller's values: its field path moved under
/// `prefix` (`[3].key_spec` under `records` is `records[3].key_spec`; an empty prefix leaves it
/// as it is), and without line and column, which count lines of text the caller never saw.
pub(crate) fn relocate(prefix: &str, err: Error) -> Error {
    let field = match (err.context().field.as_deref(), prefix) {
        (Some(path), "") => Some(path.to_owned()),
        (Some(path), _) if path.starts_with('[') => Some(format!("{prefix}{path}")),
        (Some(path), _) => Some(format!("{prefix}.{path}")),
        (None, "") => None,
        (None, _) => Some(prefix.to_owned()),
    };
    let mut moved = Error::new(err.kind(), err.message()).with_retryable(err.is_retryable());
    if let Some(field) = field {
        moved = moved.with_field(field);
    }
    if let Some(arn) = &err.context().key_arn {
        moved = moved.with_key_arn(arn.clone());
    }
    moved
}
