//! Values across the boundary. Records, findings, reports and policies keep the snake_case
//! shape of formats.md, so they cross as JSON: V8's `JSON.stringify`/`JSON.parse` and serde_json
//! are faster than building objects property by property through N-API, and parsing with the
//! core's reader gives the same errors (with the field path) as a file would.

use chrono::{DateTime, Utc};
use kms_rotation::input::{self, Syntax};
use kms_rotation::{Error, Policy};
use napi::bindgen_prelude::{Either, Function, JsObjectValue, Object, Undefined, Unknown};
use napi::{Env, ValueType};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::under;

fn json<'env>(env: &'env Env) -> napi::Result<Object<'env>> {
    env.get_global()?.get_named_property("JSON")
}

/// A JS value as a typed core value; errors name the field under `what`.
pub(crate) fn from_js<T: DeserializeOwned>(
    env: &Env,
    value: Unknown,
    what: &str,
) -> napi::Result<Result<T, Error>> {
    let stringify: Function<Unknown, Either<String, Undefined>> =
        json(env)?.get_named_property("stringify")?;
    let text = match stringify.call(value)? {
        Either::A(text) => text,
        Either::B(()) => {
            return Ok(Err(under(
                what,
                Error::invalid_input("expected a JSON value, got undefined"),
            )));
        }
    };
    Ok(input::parse(&text, Syntax::Json).map_err(|e| under(what, e)))
}

/// A core value as a plain JS object of the formats.md shape.
pub(crate) fn to_js<'env, T: Serialize>(env: &'env Env, value: &T) -> napi::Result<Unknown<'env>> {
    let text = serde_json::to_string(value)
        .map_err(|e| napi::Error::new(napi::Status::GenericFailure, e.to_string()))?;
    let parse: Function<String, Unknown> = json(env)?.get_named_property("parse")?;
    parse.call(text)
}

/// A policy document (snake_case, the file's shape), validated like a file; the default policy
/// when absent.
pub(crate) fn policy(env: &Env, value: Option<Unknown>) -> napi::Result<Result<Policy, Error>> {
    let Some(value) = value.filter(|v| !is_nullish(v)) else {
        return Ok(Ok(Policy::default()));
    };
    Ok(from_js::<Policy>(env, value, "policy")?
        .and_then(|p| p.validate().map(|()| p).map_err(|e| under("policy", e))))
}

/// Whether `value` is `null` or `undefined` (optional arguments).
pub(crate) fn is_nullish(value: &Unknown) -> bool {
    matches!(value.get_type(), Ok(ValueType::Null | ValueType::Undefined))
}

/// `now` as a `Date` or an RFC 3339 string.
pub(crate) fn now(
    value: Option<Either<DateTime<Utc>, String>>,
) -> Result<Option<DateTime<Utc>>, Error> {
    match value {
        None => Ok(None),
        Some(Either::A(date)) => Ok(Some(date)),
        Some(Either::B(text)) => DateTime::parse_from_rfc3339(&text)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| {
                Error::invalid_input(format!("`{text}` is not an RFC 3339 time: {e}"))
                    .with_field("now")
            }),
    }
}
