//! Values across the boundary, as JSON: options, records, policies, reports and plans go through
//! V8's `JSON.stringify` and the core's reader (so errors carry the core's field paths), and
//! results come back through serde_json and V8's `JSON.parse`. Both are faster than building or
//! reading objects property by property through N-API.
//!
//! Nothing here knows an option's name: the one exception is `onProgress`, a function, which
//! JSON cannot carry and which is the binding's business.

use kms_rotation::input::{self, Syntax};
use kms_rotation::{Error, ErrorKind};
use napi::bindgen_prelude::{
    Either, FromNapiValue, Function, JsObjectValue, JsValue, JsValuesTupleIntoVec, Object,
    Undefined, Unknown,
};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{Env, Status, ValueType};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error;

/// The name of the one option that is not the core's: the progress callback.
const ON_PROGRESS: &str = "onProgress";

/// A progress callback, callable from any thread; the event loop runs it.
pub(crate) type Callback<P> = ThreadsafeFunction<P, (), P, Status, false>;

fn global_json<'env>(env: &'env Env) -> napi::Result<Object<'env>> {
    env.get_global()?.get_named_property("JSON")
}

/// `JSON.stringify(value)`: `None` for `undefined` (and anything else JSON cannot hold).
pub(crate) fn stringify(env: &Env, value: Unknown) -> napi::Result<Option<String>> {
    let stringify: Function<Unknown, Either<String, Undefined>> =
        global_json(env)?.get_named_property("stringify")?;
    match stringify.call(value)? {
        Either::A(text) => Ok(Some(text)),
        Either::B(()) => Ok(None),
    }
}

/// `JSON.parse(text)`.
pub(crate) fn parse_js<'env>(env: &'env Env, text: String) -> napi::Result<Unknown<'env>> {
    let parse: Function<String, Unknown> = global_json(env)?.get_named_property("parse")?;
    parse.call(text)
}

/// A core value as a plain JS value of the formats.md shape.
pub(crate) fn to_js<'env, T: Serialize>(env: &'env Env, value: &T) -> napi::Result<Unknown<'env>> {
    parse_js(env, to_json(value).map_err(|e| error::to_js(env, &e))?)
}

/// A core value as compact JSON text.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::new(ErrorKind::Unexpected, e.to_string()))
}

/// JSON text as a core value, read by the core's reader. Field paths in errors are put under
/// `prefix` (`records` makes `[3].key_spec` into `records[3].key_spec`) when there is one;
/// without one, the text is an options object, and the option an error names is spelt as the
/// core spells it (`dryRun` is `dry_run`), whichever spelling it was given in.
pub(crate) fn from_json<T: DeserializeOwned>(text: &str, prefix: &str) -> Result<T, Error> {
    input::parse(text, Syntax::Json).map_err(|e| match (prefix, e.context().field.clone()) {
        ("", Some(field)) => error::relocate("", e).with_field(snake_case_option(&field)),
        _ => error::relocate(prefix, e),
    })
}

/// `dryRun.x[1]` as `dry_run.x[1]`: the first segment of a field path in snake_case.
fn snake_case_option(path: &str) -> String {
    let end = path.find(['.', '[']).unwrap_or(path.len());
    let mut snake = String::with_capacity(path.len() + 4);
    for c in path[..end].chars() {
        if c.is_ascii_uppercase() {
            snake.push('_');
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake + &path[end..]
}

/// An options object taken apart: the JSON text the core reads, and the progress callback.
pub(crate) struct Options<P: JsValuesTupleIntoVec + 'static> {
    pub json: String,
    pub on_progress: Option<Callback<P>>,
}

/// The JSON text of an options object as the core reads it, and its `onProgress` callback
/// apart. `null` and `undefined` are no options (`{}`). Any other property goes to the core,
/// which refuses what it does not know, so a misspelt option is an error, never ignored.
pub(crate) fn options<P>(
    env: &Env,
    options: Option<Unknown>,
) -> napi::Result<Result<Options<P>, Error>>
where
    P: JsValuesTupleIntoVec + 'static,
{
    take_apart(env, options, true)
}

/// The JSON text of the options of an operation that reports no progress, as [`options`] reads
/// them but for `onProgress`, which goes to the core like any other name (and is refused there
/// as unknown, or here as a function).
pub(crate) fn plain_options(
    env: &Env,
    options: Option<Unknown>,
) -> napi::Result<Result<String, Error>> {
    Ok(take_apart::<()>(env, options, false)?.map(|options| options.json))
}

fn take_apart<P>(
    env: &Env,
    options: Option<Unknown>,
    with_progress: bool,
) -> napi::Result<Result<Options<P>, Error>>
where
    P: JsValuesTupleIntoVec + 'static,
{
    let Some(options) = options.filter(|o| !is_nullish(o)) else {
        return Ok(Ok(Options {
            json: "{}".to_owned(),
            on_progress: None,
        }));
    };
    if options.get_type()? != ValueType::Object {
        // The core says what it expected.
        let json = stringify(env, options)?.unwrap_or_default();
        return Ok(Ok(Options {
            json,
            on_progress: None,
        }));
    }
    let object = Object::from_unknown(options)?;
    let mut rest = Object::new(env)?;
    let mut on_progress = None;
    for key in Object::keys(&object)? {
        let value: Unknown = object.get_named_property_unchecked(&key)?;
        match (key.as_str(), value.get_type()?) {
            (ON_PROGRESS, ValueType::Function) if with_progress => {
                let function: Function<P, ()> = Function::from_unknown(value)?;
                on_progress = Some(
                    function
                        .build_threadsafe_function()
                        .callee_handled::<false>()
                        .build()?,
                );
            }
            (ON_PROGRESS, ValueType::Null | ValueType::Undefined) if with_progress => {}
            (ON_PROGRESS, _) if with_progress => {
                return Ok(Err(
                    Error::invalid_input("must be a function").with_field(ON_PROGRESS)
                ));
            }
            // JSON.stringify would drop it without a word.
            (_, ValueType::Function) => {
                let only = match with_progress {
                    true => format!(" (only `{ON_PROGRESS}` takes one)"),
                    false => String::new(),
                };
                return Ok(Err(Error::invalid_input(format!(
                    "a function is not an option value{only}"
                ))
                .with_field(key)));
            }
            _ => rest.set_named_property(&key, value)?,
        }
    }
    let json = stringify(env, rest.to_unknown())?.unwrap_or_default();
    Ok(Ok(Options { json, on_progress }))
}

/// Whether `value` is `null` or `undefined` (optional arguments).
pub(crate) fn is_nullish(value: &Unknown) -> bool {
    matches!(value.get_type(), Ok(ValueType::Null | ValueType::Undefined))
}

#[cfg(test)]
mod tests {
    use super::snake_case_option;

    #[test]
    fn option_names_in_errors_are_the_cores() {
        assert_eq!(snake_case_option("dryRun"), "dry_run");
        assert_eq!(snake_case_option("dry_run"), "dry_run");
        assert_eq!(
            snake_case_option("operationAttemptTimeoutMs"),
            "operation_attempt_timeout_ms"
        );
        // Only the option: what is under it is data, spelt as given.
        assert_eq!(
            snake_case_option("records[3].key_spec"),
            "records[3].key_spec"
        );
        assert_eq!(
            snake_case_option("policy.exceptions[0].match"),
            "policy.exceptions[0].match"
        );
        assert_eq!(snake_case_option("roleArns[0]"), "role_arns[0]");
        assert_eq!(
            snake_case_option("scan.records[0].tags.Owner"),
            "scan.records[0].tags.Owner"
        );
    }
}
