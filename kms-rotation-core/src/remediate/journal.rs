//! The journal: one NDJSON line per event, appended and synced to disk as it happens, so that a
//! run killed (or a machine that crashes) halfway still leaves a record of every change it made
//! or was about to make (`formats.md`). Rollback reads it and appends its own events to the same
//! file.
//!
//! Recovery rests on three things: the intent (`before` with the `target` state) is on disk
//! before the write is sent; a run holds an exclusive advisory lock on the file, so no two runs
//! interleave; and the one line a crash can leave half-written, the last, is reported and
//! ignored, while any other bad line is an error.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};

use super::target::RotationState;
use crate::wire::wire_names;
use crate::{Error, ErrorKind, Result};

/// What happened to a key. The snake_case names are public API.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Event {
    /// The state read before acting (`state`). With `target`, it is the intent: the write of
    /// `target` is about to be sent, and may have landed even if no `after` follows.
    Before,
    /// Already at the target (or compliant): no write.
    Skipped,
    /// The write call succeeded; `state` is what it set.
    After,
    /// A re-read showed the target state.
    Verified,
    /// The re-reads never showed the target state; `state` is the last one read.
    VerificationFailed,
    /// The describe, the read or the write failed; `error` has the code. After an intent, a
    /// code that does not rule the write out ([`write_may_have_applied`](super::write_may_have_applied))
    /// means it may have landed.
    Failed,
    /// Rollback restored `state`, the key's state before the run.
    RolledBack,
    /// Rollback left the key alone; `reason` says why (changed since, runs that do not chain, out
    /// of scope).
    RollbackSkipped,
    /// Rollback's read or write failed; `error` has the code.
    RollbackFailed,
}
wire_names!(Event, "journal event");

/// An AWS error, as far as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JournalError {
    /// The AWS error code (`AccessDeniedException`), or the crate's error kind when there is none.
    pub code: String,
    /// The error message; may be empty.
    #[serde(default)]
    pub message: String,
    /// The AWS operation that failed (`EnableKeyRotation`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

impl From<&Error> for JournalError {
    fn from(err: &Error) -> Self {
        JournalError {
            code: err
                .context()
                .code
                .clone()
                .unwrap_or_else(|| err.kind().as_str().to_owned()),
            message: err.message().to_owned(),
            operation: err.context().operation.clone(),
        }
    }
}

impl JournalError {
    /// This failure of `key_arn` as the crate's error: the kind follows the code
    /// ([`ErrorKind::from_aws_code`], or the code is a kind's name when there was no AWS code),
    /// with the key, its region (from the ARN), the operation and the code as context.
    pub fn to_error(&self, key_arn: &str) -> Error {
        let kind = kind_of(&self.code);
        let message = if self.message.is_empty() {
            self.code.clone()
        } else {
            self.message.clone()
        };
        let mut err = Error::new(kind, message)
            .with_key_arn(key_arn)
            .with_code(self.code.clone());
        if let Ok(arn) = crate::model::KeyArn::parse(key_arn) {
            err = err.with_region(arn.region);
        }
        if let Some(operation) = &self.operation {
            err = err.with_operation(operation.clone());
        }
        err
    }
}

/// The kind of a journaled error code: an AWS code's ([`ErrorKind::from_aws_code`]), or the kind
/// the code names (`JournalError::code` holds a kind's name when there was no AWS code).
pub(crate) fn kind_of(code: &str) -> ErrorKind {
    match ErrorKind::from_aws_code(code) {
        ErrorKind::Unexpected => code.parse().unwrap_or(ErrorKind::Unexpected),
        kind => kind,
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JournalEntry {
    /// When the event happened (UTC).
    pub at: DateTime<Utc>,
    /// The apply or rollback run that wrote the line.
    pub run_id: String,
    /// The key.
    pub target_arn: String,
    /// What happened to the key.
    pub event: Event,
    /// A rotation state, or `None`; which one depends on the event (read before acting, set by the
    /// write, seen by a re-read, restored).
    #[serde(default)]
    pub state: Option<RotationState>,
    /// On a `before` line: the state the write about to be sent sets (the intent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<RotationState>,
    /// The error of a failed describe, read or write; `None` otherwise.
    #[serde(default)]
    pub error: Option<JournalError>,
    /// Why, for `skipped` and `rollback_skipped` (e.g. `already_at_target`, `changed_since`,
    /// `unsupported_key_spec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where events go. Cheap to clone; clones append to the same file, one whole line at a time.
///
/// A journal opened on a file holds an exclusive advisory lock on it until the last clone is
/// dropped: a second apply or rollback on the same file is refused, not interleaved. Once a line
/// cannot be written, every later one is refused too, so that a half-written line stays the last.
#[derive(Debug, Clone)]
pub struct Journal {
    inner: Arc<Mutex<Inner>>,
    path: Option<PathBuf>,
}

#[derive(Debug)]
struct Inner {
    sink: Sink,
    /// Set by the first line that could not be written.
    failure: Option<String>,
    /// Torn lines found on opening or reading.
    warnings: Vec<String>,
}

#[derive(Debug)]
enum Sink {
    File(File),
    /// Entries kept in memory; refuses lines past `capacity` (a full disk, for tests).
    Memory {
        entries: Vec<JournalEntry>,
        capacity: Option<usize>,
    },
    /// Read, never written (dry runs).
    ReadOnly,
}

impl Journal {
    /// Opens `path` for appending (creating it) and locks it for this run. Existing lines are
    /// kept: one journal may hold several runs and their rollbacks. A last line left half-written
    /// by an interrupted run is removed first and reported in [`warnings`](Self::warnings).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path.as_ref(), true)
    }

    /// As [`open`](Self::open), but the file must exist (rollback: a missing journal is an error,
    /// not an empty one).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path.as_ref(), false)
    }

    /// A journal that is only read ([`read_entries`](Self::read_entries)): no lock, and every
    /// [`record`](Self::record) fails. For dry runs, which write nothing.
    pub fn read_only(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        File::open(path).map_err(|e| io_error(e, path))?;
        Ok(Journal::with_sink(Sink::ReadOnly, Some(path.to_owned())))
    }

    /// A journal kept in memory (tests, dry runs, embedders that store events themselves).
    pub fn in_memory() -> Self {
        Journal::with_sink(
            Sink::Memory {
                entries: Vec::new(),
                capacity: None,
            },
            None,
        )
    }

    /// An in-memory journal that refuses every line after the first `lines`, as a full disk
    /// would: for testing what a run does when its journal fails.
    pub fn in_memory_failing_after(lines: usize) -> Self {
        Journal::with_sink(
            Sink::Memory {
                entries: Vec::new(),
                capacity: Some(lines),
            },
            None,
        )
    }

    fn with_sink(sink: Sink, path: Option<PathBuf>) -> Self {
        Journal {
            inner: Arc::new(Mutex::new(Inner {
                sink,
                failure: None,
                warnings: Vec::new(),
            })),
            path,
        }
    }

    fn open_with(path: &Path, create: bool) -> Result<Self> {
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .create(create)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| io_error(e, path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "{} is in use by another apply or rollback (it holds the journal's lock); \
                         wait for it to finish, or use another journal",
                        path.display()
                    ),
                )
                .with_file(path)
                .with_retryable(true));
            }
            Err(TryLockError::Error(e)) => {
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!("cannot lock {}: {e}", path.display()),
                )
                .with_file(path)
                .with_retryable(false));
            }
        }
        if !existed {
            sync_parent(path);
        }
        let warning = repair_torn_tail(&mut file, path)?;
        let journal = Journal::with_sink(Sink::File(file), Some(path.to_owned()));
        journal.lock().warnings.extend(warning);
        Ok(journal)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind: still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The journal's file; `None` for an in-memory journal.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Appends one event and syncs it to disk before returning. A failure here stops the run:
    /// changing keys without a record of how to undo them is worse than stopping. After one
    /// failure every later call fails too.
    pub fn record(&self, entry: &JournalEntry) -> Result<()> {
        let mut inner = self.lock();
        if let Some(failure) = &inner.failure {
            return Err(self.error(format!(
                "the journal stopped taking events after an earlier failure: {failure}"
            )));
        }
        let written = match &mut inner.sink {
            Sink::Memory { entries, capacity } => {
                if capacity.is_some_and(|c| entries.len() >= c) {
                    Err("no space left (in_memory_failing_after)".to_owned())
                } else {
                    entries.push(entry.clone());
                    Ok(())
                }
            }
            Sink::ReadOnly => Err("the journal was opened read-only".to_owned()),
            Sink::File(file) => {
                let mut line = serde_json::to_vec(entry)
                    .map_err(|e| Error::new(ErrorKind::Unexpected, e.to_string()))?;
                line.push(b'\n');
                // One write of the whole line; synced before the caller goes on to the write call
                // the line announces. Data only: the file's size is part of it, its times are not.
                file.write_all(&line)
                    .and_then(|()| file.sync_data())
                    .map_err(|e| e.to_string())
            }
        };
        written.map_err(|why| {
            inner.failure = Some(why.clone());
            self.error(format!("cannot write the journal: {why}"))
        })
    }

    fn error(&self, message: String) -> Error {
        let err = Error::new(ErrorKind::Unavailable, message).with_retryable(false);
        match &self.path {
            Some(path) => err.with_file(path),
            None => err,
        }
    }

    /// Why the journal stopped taking events, if it did.
    pub fn failure(&self) -> Option<String> {
        self.lock().failure.clone()
    }

    /// Torn last lines found when the file was opened or read (an interrupted run), one message
    /// each. They were ignored: such a line never hides a write (the intent is synced before the
    /// write is sent).
    pub fn warnings(&self) -> Vec<String> {
        self.lock().warnings.clone()
    }

    /// Every event so far: the file's lines (see [`read_journal`]), or an in-memory journal's
    /// events. A torn last line is added to [`warnings`](Self::warnings).
    pub fn read_entries(&self) -> Result<Vec<JournalEntry>> {
        if let Some(path) = &self.path {
            let (entries, warning) = parse_file(path)?;
            let mut inner = self.lock();
            if let Some(warning) = warning
                && !inner.warnings.contains(&warning)
            {
                inner.warnings.push(warning);
            }
            return Ok(entries);
        }
        Ok(self.entries())
    }

    /// The events of an in-memory journal (empty for a file journal: use
    /// [`read_entries`](Self::read_entries)).
    pub fn entries(&self) -> Vec<JournalEntry> {
        match &self.lock().sink {
            Sink::Memory { entries, .. } => entries.clone(),
            Sink::File(_) | Sink::ReadOnly => Vec::new(),
        }
    }
}

fn io_error(err: std::io::Error, path: &Path) -> Error {
    Error::from(err).with_file(path).with_retryable(false)
}

/// Makes a new file's directory entry durable. Best effort: some platforms cannot open a
/// directory, and the file's own lines are synced either way.
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}

/// Before appending: a last line without its newline is either complete (hand-edited: the newline
/// is added) or torn by an interrupted write (removed, and reported), so that the next line does
/// not run into it.
fn repair_torn_tail(file: &mut File, path: &Path) -> Result<Option<String>> {
    let io = |e| io_error(e, path);
    let len = file.seek(SeekFrom::End(0)).map_err(io)?;
    if len == 0 {
        return Ok(None);
    }
    // Read back from the end until the last newline: the tail is one line, usually short.
    let mut start = len;
    let mut tail = Vec::new();
    while start > 0 {
        let chunk = (start.min(64 * 1024)) as usize;
        start -= chunk as u64;
        let mut buf = vec![0; chunk];
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        file.read_exact(&mut buf).map_err(io)?;
        buf.extend_from_slice(&tail);
        tail = buf;
        if let Some(i) = tail[..chunk].iter().rposition(|&b| b == b'\n') {
            start += i as u64 + 1;
            tail.drain(..=i);
            break;
        }
    }
    if tail.is_empty() {
        return Ok(None);
    }
    let complete = std::str::from_utf8(&tail)
        .ok()
        .is_some_and(|line| line.trim().is_empty() || parse_line(line).is_ok());
    if complete {
        file.write_all(b"\n")
            .and_then(|()| file.sync_data())
            .map_err(io)?;
        return Ok(None);
    }
    file.set_len(start)
        .and_then(|()| file.sync_data())
        .map_err(io)?;
    Ok(Some(format!(
        "{}: the last line ({} bytes) was cut short by an interrupted run and was removed before \
         appending; an intent is always complete before its write is sent, so no change is lost",
        path.display(),
        tail.len()
    )))
}

/// Reads a journal file. Every line must parse, except a last line without its newline that does
/// not (a write cut short): that one is ignored, with a warning (also logged). An error names the
/// file and the line. Blank lines are allowed (a hand-edited file).
pub fn read_journal(path: impl AsRef<Path>) -> Result<Vec<JournalEntry>> {
    let (entries, warning) = parse_file(path.as_ref())?;
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
    Ok(entries)
}

fn parse_file(path: &Path) -> Result<(Vec<JournalEntry>, Option<String>)> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| io_error(e, path))?;
    let torn_tail_possible = !bytes.is_empty() && !bytes.ends_with(b"\n");
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let last = lines.len() - 1;
    let mut entries = Vec::new();
    for (i, line) in lines.into_iter().enumerate() {
        let parsed = std::str::from_utf8(line)
            .map_err(|e| Error::invalid_input(format!("not UTF-8: {e}")))
            .and_then(|text| {
                if text.trim().is_empty() {
                    Ok(None)
                } else {
                    parse_line(text).map(Some)
                }
            });
        match parsed {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => {}
            Err(_) if i == last && torn_tail_possible => {
                let warning = format!(
                    "{}: line {} is incomplete (a write cut short by an interrupted run) and was \
                     ignored",
                    path.display(),
                    i + 1
                );
                return Ok((entries, Some(warning)));
            }
            Err(e) => {
                let column = e.context().column.unwrap_or(1);
                return Err(e.with_file(path).with_position(i + 1, column));
            }
        }
    }
    Ok((entries, None))
}

/// Parses one journal line; the position is on the line's own line 1.
pub fn parse_line(line: &str) -> Result<JournalEntry> {
    crate::input::parse(line, crate::input::Syntax::Json)
}
