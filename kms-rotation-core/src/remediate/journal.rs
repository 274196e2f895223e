//! The journal: one NDJSON line per event, appended and flushed as it happens, so that a run
//! killed halfway still leaves a record of every change it made (`formats.md`). Rollback reads
//! it and appends its own events to the same file.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::target::RotationState;
use crate::{Error, ErrorKind, Result};

/// What happened to a key. The snake_case names are public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The state read before acting; every action that got as far as a read has one.
    Before,
    /// Already at the target (or compliant): no write.
    Skipped,
    /// The write call succeeded; `state` is what it set.
    After,
    /// A re-read showed the target state.
    Verified,
    /// The re-reads never showed the target state; `state` is the last one read.
    VerificationFailed,
    /// The read or the write failed; `error` has the code.
    Failed,
    /// Rollback restored `state`, the key's state before the run.
    RolledBack,
    /// Rollback left the key alone: it changed since the run (or already shows its old state).
    RollbackSkipped,
    /// Rollback's read or write failed; `error` has the code.
    RollbackFailed,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Before => "before",
            Event::Skipped => "skipped",
            Event::After => "after",
            Event::Verified => "verified",
            Event::VerificationFailed => "verification_failed",
            Event::Failed => "failed",
            Event::RolledBack => "rolled_back",
            Event::RollbackSkipped => "rollback_skipped",
            Event::RollbackFailed => "rollback_failed",
        }
    }
}

/// An AWS error, as far as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalError {
    /// The AWS error code (`AccessDeniedException`), or the crate's error kind when there is none.
    pub code: String,
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
        let kind = match ErrorKind::from_aws_code(&self.code) {
            ErrorKind::Unexpected => kind_named(&self.code).unwrap_or(ErrorKind::Unexpected),
            kind => kind,
        };
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

/// The kind whose name is `name` (`JournalError::code` holds one when there was no AWS code).
fn kind_named(name: &str) -> Option<ErrorKind> {
    [
        ErrorKind::InvalidInput,
        ErrorKind::NotFound,
        ErrorKind::AccessDenied,
        ErrorKind::Throttled,
        ErrorKind::InvalidKeyState,
        ErrorKind::Unsupported,
        ErrorKind::Unavailable,
        ErrorKind::Unexpected,
    ]
    .into_iter()
    .find(|kind| kind.as_str() == name)
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub at: DateTime<Utc>,
    pub run_id: String,
    pub target_arn: String,
    pub event: Event,
    #[serde(default)]
    pub state: Option<RotationState>,
    #[serde(default)]
    pub error: Option<JournalError>,
    /// Why, for `skipped` and `rollback_skipped` (e.g. `already_at_target`, `changed_since`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where events go. Cheap to clone; clones append to the same file, one whole line at a time.
#[derive(Debug, Clone)]
pub struct Journal {
    sink: Arc<Mutex<Sink>>,
    path: Option<PathBuf>,
}

#[derive(Debug)]
enum Sink {
    File(File),
    Memory(Vec<JournalEntry>),
}

impl Journal {
    /// Opens `path` for appending (creating it). Existing lines are kept: one journal may hold
    /// several runs and their rollbacks.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::from(e).with_file(path).with_retryable(false))?;
        Ok(Journal {
            sink: Arc::new(Mutex::new(Sink::File(file))),
            path: Some(path.to_owned()),
        })
    }

    /// A journal kept in memory (tests, dry runs, embedders that store events themselves).
    pub fn in_memory() -> Self {
        Journal {
            sink: Arc::new(Mutex::new(Sink::Memory(Vec::new()))),
            path: None,
        }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Appends one event and flushes it. A failure here stops the run: changing keys without a
    /// record of how to undo them is worse than stopping.
    pub fn record(&self, entry: &JournalEntry) -> Result<()> {
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *sink {
            Sink::Memory(entries) => {
                entries.push(entry.clone());
                Ok(())
            }
            Sink::File(file) => {
                let mut line = serde_json::to_vec(entry)
                    .map_err(|e| Error::new(ErrorKind::Unexpected, e.to_string()))?;
                line.push(b'\n');
                // One write of the whole line: concurrent runs appending to one file interleave
                // lines, never bytes.
                file.write_all(&line)
                    .and_then(|()| file.flush())
                    .map_err(|e| {
                        let err = Error::new(
                            ErrorKind::Unavailable,
                            format!("cannot write the journal: {e}"),
                        );
                        match &self.path {
                            Some(path) => err.with_file(path),
                            None => err,
                        }
                    })
            }
        }
    }

    /// The events of an in-memory journal (empty for a file journal: read it with
    /// [`read_journal`]).
    pub fn entries(&self) -> Vec<JournalEntry> {
        match &*self.sink.lock().unwrap_or_else(|e| e.into_inner()) {
            Sink::Memory(entries) => entries.clone(),
            Sink::File(_) => Vec::new(),
        }
    }
}

/// Reads a journal file. Every line must parse; an error names the file and the line.
/// Blank lines are allowed (a hand-edited file).
pub fn read_journal(path: impl AsRef<Path>) -> Result<Vec<JournalEntry>> {
    let path = path.as_ref();
    let file =
        File::open(path).map_err(|e| Error::from(e).with_file(path).with_retryable(false))?;
    let mut entries = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::from(e).with_file(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let entry = parse_line(&line).map_err(|e| {
            let column = e.context().column.unwrap_or(1);
            e.with_file(path).with_position(i + 1, column)
        })?;
        entries.push(entry);
    }
    Ok(entries)
}

/// Parses one journal line; the position is on the line's own line 1.
pub fn parse_line(line: &str) -> Result<JournalEntry> {
    crate::input::parse(line, crate::input::Syntax::Json)
}
