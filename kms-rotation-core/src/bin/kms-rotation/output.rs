//! What the CLI prints: reports and plans on stdout (or a file written atomically), outcomes as
//! JSON, and lines for people on stderr.

use std::io::{BufWriter, Write};
use std::path::Path;

use kms_rotation::ops::{self, RenderOptions};
use kms_rotation::{Error, ErrorKind, Report, Result};

use crate::outcome::OutcomeFormat;

/// Whether a document goes out in its rendering for people (a table) by default: it goes to
/// stdout and stdout is a terminal. Anywhere else the default is JSON, for programs.
pub fn for_people(output: Option<&Path>) -> bool {
    use std::io::IsTerminal;
    output.is_none() && std::io::stdout().is_terminal()
}

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

/// How a table is drawn on stdout (`to_stdout`) or in a file: colours as `--color` and the
/// stream decide, and on a terminal the terminal's width.
pub fn look(to_stdout: bool) -> crate::table::Look {
    if !to_stdout {
        return crate::table::Look {
            colour: crate::colour::in_file(),
            width: None,
        };
    }
    // A terminal that reports no usable width (a fresh pseudo-terminal reports 0) gets no
    // wrapping rather than a table squeezed into nothing.
    let width = console::Term::stdout()
        .size_checked()
        .map(|(_rows, columns)| columns)
        .filter(|columns| *columns >= 40);
    crate::table::Look {
        colour: crate::colour::on_stdout(),
        width,
    }
}

/// Text for people to stdout, or atomically to `output` (a `.partial` file renamed into place,
/// as the core writes reports).
pub fn write_text(text: &[u8], output: Option<&Path>) -> Result<()> {
    let written = match output {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text).and_then(|()| out.flush())
        }
        Some(path) => {
            let mut partial = path.as_os_str().to_owned();
            partial.push(".partial");
            std::fs::write(&partial, text).and_then(|()| std::fs::rename(&partial, path))
        }
    };
    written.map_err(|e| {
        let err = Error::new(ErrorKind::Unavailable, format!("cannot write: {e}"));
        match output {
            Some(path) => err.with_file(path),
            None => err,
        }
    })
}

/// An outcome (apply, rollback) on stdout as pretty JSON or as the `table` of it, and on stderr
/// its journal's warnings and failure (even with --quiet: they are not a summary).
pub fn print_outcome<T: serde::Serialize>(
    outcome: &T,
    format: OutcomeFormat,
    table: fn(&T, crate::table::Look) -> String,
    journal_warnings: &[String],
    journal_error: Option<&str>,
) -> Result<()> {
    match format {
        OutcomeFormat::Json => print_json(outcome)?,
        OutcomeFormat::Table => write_text(table(outcome, look(true)).as_bytes(), None)?,
    }
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

/// Prints to stderr, above any progress bar, ignoring a closed stderr (the CLI must not panic
/// on `2>&-`).
pub fn note(message: std::fmt::Arguments<'_>) {
    crate::progress::suspend(|| {
        let _ = writeln!(std::io::stderr(), "{message}");
    });
}

/// The summary for people, on stderr.
pub fn print_summary(report: &Report) {
    let summary = summary(report, crate::colour::on_stderr());
    note(format_args!("{}", summary.trim_end()));
}

/// The counts by status and the verdict, then each region or account not scanned: one line
/// each, the verdict coloured when `colour`.
pub fn summary(report: &Report, colour: bool) -> String {
    let s = &report.summary.by_status;
    let style = console::Style::new().bold().force_styling(colour);
    let verdict = match (report.is_complete(), report.is_compliant()) {
        (false, _) => style
            .yellow()
            .apply_to("INCOMPLETE: some regions or accounts could not be listed"),
        (true, true) => style.green().apply_to("compliant"),
        (true, false) => style.red().apply_to("NOT compliant"),
    };
    let mut text = format!(
        "{} keys: {} pass, {} fail, {} exempt, {} not applicable, {} error; {verdict}\n",
        s.total, s.pass, s.fail, s.exempt, s.not_applicable, s.error
    );
    for scope_error in &report.scope_errors {
        text += &format!(
            "not scanned: account {} region {}: {} {}: {}\n",
            scope_error.account_id.as_deref().unwrap_or("?"),
            scope_error.region.as_deref().unwrap_or("?"),
            scope_error.operation,
            scope_error.code,
            scope_error.message
        );
    }
    text
}
