//! Writing a rendering of a document (a report, a plan, a diff, an exceptions review): the one
//! place that says how JSON is laid out, that a writer is flushed, and how a failed write is
//! reported, so that every document and every format behaves the same.

use std::io::{self, Write};

use crate::{Error, ErrorKind, Result};

/// Runs `write` on `out` and flushes it. A failed write is `Unavailable`, naming `what` ("the
/// plan"): the destination (a closed pipe, a full disk) refused it.
pub(crate) fn write(
    out: &mut dyn Write,
    what: &str,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    write(out)
        .and_then(|()| out.flush())
        .map_err(|e| Error::new(ErrorKind::Unavailable, format!("cannot write {what}: {e}")))
}

/// `value` as pretty-printed JSON and a line break.
pub(crate) fn json(out: &mut dyn Write, value: &impl serde::Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// What `render` writes, as a string.
pub(crate) fn to_string(render: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<String> {
    let mut buffer = Vec::new();
    render(&mut buffer)?;
    String::from_utf8(buffer).map_err(|e| Error::new(ErrorKind::Unexpected, e.to_string()))
}
