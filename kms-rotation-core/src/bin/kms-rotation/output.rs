//! What the CLI prints: reports and plans on stdout (or a file written atomically), outcomes as
//! JSON, and lines for people on stderr.

use std::io::{BufWriter, Write};
use std::path::Path;

use kms_rotation::ops::{self, RenderOptions};
use kms_rotation::{Error, ErrorKind, Report, Result};

/// Renders to stdout, or with the core's atomic file write to `output`.
pub fn write(mut render: RenderOptions, output: Option<&Path>) -> Result<()> {
    match output {
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            ops::render_to(&render, &mut out)?;
            out.flush().map_err(Error::from)
        }
        Some(path) => {
            render.output = Some(path.to_owned());
            ops::render(render).map(drop)
        }
    }
}

/// An outcome (apply, rollback) as pretty JSON on stdout, and on stderr its journal's warnings
/// and failure (even with --quiet: they are not a summary).
pub fn print_outcome(
    outcome: &impl serde::Serialize,
    journal_warnings: &[String],
    journal_error: Option<&str>,
) -> Result<()> {
    print_json(outcome)?;
    for warning in journal_warnings {
        note(format_args!("kms-rotation: warning: {warning}"));
    }
    if let Some(err) = journal_error {
        note(format_args!(
            "kms-rotation: error: the journal failed: {err}"
        ));
    }
    Ok(())
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("cannot write the outcome: {e}"),
            )
        })
}

/// Prints to stderr, ignoring a closed stderr (the CLI must not panic on `2>&-`).
pub fn note(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// One line for people, on stderr.
pub fn print_summary(report: &Report) {
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        // Clear the progress line.
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
    let s = &report.summary.by_status;
    let verdict = match (report.is_complete(), report.is_compliant()) {
        (false, _) => "INCOMPLETE: some regions or accounts could not be listed",
        (true, true) => "compliant",
        (true, false) => "NOT compliant",
    };
    note(format_args!(
        "{} keys: {} pass, {} fail, {} exempt, {} not applicable, {} error; {verdict}",
        s.total, s.pass, s.fail, s.exempt, s.not_applicable, s.error
    ));
    for scope_error in &report.scope_errors {
        note(format_args!(
            "not scanned: account {} region {}: {} {}: {}",
            scope_error.account_id.as_deref().unwrap_or("?"),
            scope_error.region.as_deref().unwrap_or("?"),
            scope_error.operation,
            scope_error.code,
            scope_error.message
        ));
    }
}

/// A progress line on stderr, redrawn at most a few times a second, when stderr is a terminal
/// (never in CI logs or when redirected).
pub fn progress_on_terminal() -> Option<kms_rotation::source::ProgressFn> {
    use std::io::IsTerminal;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    if !std::io::stderr().is_terminal() {
        return None;
    }
    let last = Mutex::new(Instant::now());
    Some(std::sync::Arc::new(
        move |update: kms_rotation::source::ProgressUpdate| {
            let Ok(mut last) = last.lock() else { return };
            let done = update.keys_read == update.keys_listed;
            if done || last.elapsed() >= Duration::from_millis(200) {
                *last = Instant::now();
                let _ = write!(
                    std::io::stderr(),
                    "\r\x1b[2Kkeys listed: {}, read: {}",
                    update.keys_listed,
                    update.keys_read
                );
            }
        },
    ))
}
