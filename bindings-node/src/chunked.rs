//! Large arrays across the boundary a slice at a time, the two cores working at once: one
//! thread parses or serializes a slice of JSON while the event loop's thread stringifies or
//! parses the one next to it.
//!
//! - `evaluateAsync` (and `scan`, for its findings) go through thread-safe functions: the event
//!   loop runs between slices (one turn converts one slice, a few milliseconds).
//! - `evaluate`, synchronous, blocks the event loop anyway: a helper thread takes the slices
//!   through a channel ([`records_now`], [`report_now`]).
//!
//! The JS side is a few closures (`GLUE`, `NOW_GLUE`); the conversions are `JSON.stringify` and
//! `JSON.parse` (faster than reading or building objects through N-API: see BENCHMARKS.md), and
//! every record and finding is read and written by the core.

use std::sync::Arc;

use futures::future::try_join;
use kms_rotation::{Error, ErrorKind, KeyRecord, Report};
use napi::bindgen_prelude::{
    FnArgs, FromNapiValue, Function, JsObjectValue, JsValue, Object, ObjectRef, Unknown,
};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{Env, Status};

use crate::{convert, error, ops};

/// Records or findings per slice: about 1.5 MB of JSON, a few milliseconds to convert.
const SLICE: u32 = 2_000;

/// The event loop's side: records out and findings in, one slice per call.
const GLUE: &str = r#"(function (records, size) {
  const findings = []
  return {
    findings,
    pull: (start) => JSON.stringify(records.slice(start, start + size)),
    push: (text) => {
      const part = JSON.parse(text)
      for (let i = 0; i < part.length; i++) findings.push(part[i])
    },
  }
})"#;

type Pull = ThreadsafeFunction<u32, String, u32, Status, false>;
type Push = ThreadsafeFunction<String, (), String, Status, false>;

/// The worker's link to the event loop: the closures of `GLUE`, callable from any thread.
pub(crate) struct Link {
    pull: Pull,
    push: Push,
    len: u32,
}

/// The event loop's state of a link (the findings pushed), for [`resolve`].
pub(crate) type State = ObjectRef<false>;

/// A link for the `len` records of `records` (a JS array, or `null` for a call that only
/// returns a report).
pub(crate) fn link(env: &Env, records: Unknown, len: u32) -> napi::Result<(Link, State)> {
    let glue: Function<FnArgs<(Unknown, u32)>, Object> = env.run_script(GLUE)?;
    let state = glue.call((records, SLICE).into())?;
    let pull: Function<u32, String> = state.get_named_property("pull")?;
    let push: Function<String, ()> = state.get_named_property("push")?;
    let link = Link {
        pull: pull
            .build_threadsafe_function()
            .callee_handled::<false>()
            .build()?,
        push: push
            .build_threadsafe_function()
            .callee_handled::<false>()
            .build()?,
        len,
    };
    Ok((link, state.create_ref::<false>()?))
}

impl Link {
    /// The records, a slice per turn of the event loop, each parsed by the core's reader on
    /// the worker while the event loop converts the next. Errors name `records[i]...`.
    pub(crate) async fn records(&self) -> Result<Vec<KeyRecord>, Error> {
        let mut records = Vec::with_capacity(self.len as usize);
        let mut next = self.pull(0).await?;
        let mut start = 0;
        while start < self.len {
            let text = std::mem::take(&mut next);
            let parse = ops::blocking(move || parse_slice(&text, start));
            let after = start.saturating_add(SLICE);
            let slice = if after < self.len {
                let (slice, following) = try_join(parse, self.pull(after)).await?;
                next = following;
                slice
            } else {
                parse.await?
            };
            records.extend(slice);
            start = after;
        }
        Ok(records)
    }

    async fn pull(&self, start: u32) -> Result<String, Error> {
        self.pull.call_async_catch(start).await.map_err(|e| {
            // JSON.stringify threw: a cycle, a BigInt...
            Error::invalid_input(e.reason.clone()).with_field("records")
        })
    }

    /// Hands the report's findings to the event loop a slice at a time (serializing one slice
    /// while the event loop parses the one before) and returns the rest of the report as JSON,
    /// its `findings` empty, for [`resolve`].
    pub(crate) async fn send_report(&self, mut report: Report) -> Result<String, Error> {
        let findings = Arc::new(std::mem::take(&mut report.findings));
        let slices = findings.len().div_ceil(SLICE as usize);
        let serialize = |i: usize| {
            let findings = findings.clone();
            ops::blocking(move || {
                let start = i * SLICE as usize;
                let end = (start + SLICE as usize).min(findings.len());
                convert::to_json(&findings[start..end])
            })
        };
        if slices > 0 {
            let mut text = serialize(0).await?;
            for i in 1..=slices {
                if i < slices {
                    text = try_join(self.push(text), serialize(i)).await?.1;
                } else {
                    self.push(std::mem::take(&mut text)).await?;
                }
            }
        }
        convert::to_json(&report)
    }

    async fn push(&self, text: String) -> Result<(), Error> {
        self.push
            .call_async_catch(text)
            .await
            .map_err(|e| Error::new(ErrorKind::Unexpected, e.reason.clone()))
    }
}

/// Settles a call on the event loop: the report whose JSON is `outcome`, with the findings
/// pushed, or the error. Releases the link's state either way.
pub(crate) fn resolve<'env>(
    env: &'env Env,
    state: State,
    outcome: Result<String, Error>,
) -> napi::Result<Unknown<'env>> {
    let findings = state
        .get_value(env)
        .and_then(|s| s.get_named_property::<Unknown>("findings"));
    state.unref(env)?;
    let head = outcome.map_err(|e| error::to_js(env, &e))?;
    let mut report = Object::from_unknown(convert::parse_js(env, head)?)?;
    report.set_named_property("findings", findings?)?;
    Ok(report.to_unknown())
}

/// Parses one slice of records; field paths count from the whole array (`records[2005]...`).
fn parse_slice(text: &str, start: u32) -> Result<Vec<KeyRecord>, Error> {
    kms_rotation::input::parse(text, kms_rotation::input::Syntax::Json).map_err(|e| {
        let shifted = match e.context().field.as_deref() {
            Some(path) if path.starts_with('[') => path[1..]
                .split_once(']')
                .and_then(|(i, rest)| i.parse::<u32>().ok().map(|i| (i, rest)))
                .map(|(i, rest)| format!("[{}]{rest}", start + i)),
            _ => None,
        };
        let e = match shifted {
            Some(path) => e.with_field(path),
            None => e,
        };
        error::relocate("records", e)
    })
}

/// The event loop's side of [`records_now`] and [`report_now`].
const NOW_GLUE: &str = r#"({
  slice: (records, start, end) => JSON.stringify(records.slice(start, end)),
  push: (findings, text) => {
    const part = JSON.parse(text)
    for (let i = 0; i < part.length; i++) findings.push(part[i])
  },
})"#;

/// The `len` records of the JS array `records`, now: the event loop's thread stringifies a
/// slice while a helper thread parses the one before. Errors name `records[i]...`; a record
/// `JSON.stringify` cannot write (a cycle, a BigInt) throws its own error, as it always did.
pub(crate) fn records_now(
    env: &Env,
    records: Unknown,
    len: u32,
) -> napi::Result<Result<Vec<KeyRecord>, Error>> {
    let glue: Object = env.run_script(NOW_GLUE)?;
    let slice: Function<FnArgs<(Unknown, u32, u32)>, String> = glue.get_named_property("slice")?;
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<(u32, String)>(1);
        let parser = scope.spawn(move || {
            let mut parsed = Vec::with_capacity(len as usize);
            for (start, text) in receiver {
                parsed.extend(error::guard(|| parse_slice(&text, start))?);
            }
            Ok(parsed)
        });
        for start in (0..len).step_by(SLICE as usize) {
            let end = start.saturating_add(SLICE).min(len);
            // Returning drops the sender first, so the parser stops before the scope waits.
            let text = slice.call((records, start, end).into())?;
            if sender.send((start, text)).is_err() {
                break; // The parser met an error: it is in its result.
            }
        }
        drop(sender);
        Ok(parser.join().unwrap_or_else(|p| Err(error::from_panic(p))))
    })
}

/// `report` as a JS object, now: a helper thread serializes a slice of findings while the
/// event loop's thread parses the one before.
pub(crate) fn report_now(env: &Env, mut report: Report) -> napi::Result<Unknown<'_>> {
    let glue: Object = env.run_script(NOW_GLUE)?;
    let push: Function<FnArgs<(Unknown, String)>, ()> = glue.get_named_property("push")?;
    let findings = std::mem::take(&mut report.findings);
    let array = env.create_array(0)?.to_unknown();
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        scope.spawn(|| {
            for slice in findings.chunks(SLICE as usize) {
                if sender
                    .send(error::guard(|| convert::to_json(slice)))
                    .is_err()
                {
                    break;
                }
            }
            drop(sender);
        });
        for text in receiver {
            let text = text.map_err(|e| error::to_js(env, &e))?;
            push.call((array, text).into())?;
        }
        Ok::<_, napi::Error>(())
    })?;
    let mut head = Object::from_unknown(convert::to_js(env, &report)?)?;
    head.set_named_property("findings", array)?;
    Ok(head.to_unknown())
}
