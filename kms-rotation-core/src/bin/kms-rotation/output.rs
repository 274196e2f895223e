//! Where a report goes: stdout, or a file replaced atomically so a reader never sees half a report.

use std::io::{BufWriter, Write};
use std::path::Path;

use kms_rotation::{Error, ErrorKind, Format, Inventory, KeyRecord, Report, Result};

pub fn write_report(report: &Report, format: Format, output: Option<&Path>) -> Result<()> {
    match output {
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            report.render(format, &mut out)
        }
        Some(path) => write_atomically(path, |out| report.render(format, out)),
    }
}

/// Saves what a scan read as an inventory file, valid input for `scan --inventory`.
pub fn save_inventory(records: Vec<KeyRecord>, path: &Path) -> Result<()> {
    let inventory = Inventory::new(records);
    write_atomically(path, |out| {
        serde_json::to_writer_pretty(&mut *out, &inventory)
            .map_err(|e| Error::new(ErrorKind::Unexpected, e.to_string()))?;
        out.write_all(b"\n").map_err(Error::from)
    })
}

/// Writes through a `.partial` file renamed into place, so a reader never sees half a file and
/// a failed write leaves any previous file intact.
fn write_atomically(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let unwritable = |e: std::io::Error| {
        Error::new(ErrorKind::Unavailable, format!("cannot write: {e}")).with_file(path)
    };
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let mut file = BufWriter::new(std::fs::File::create(&partial).map_err(unwritable)?);
    write(&mut file)?;
    file.into_inner()
        .map_err(|e| unwritable(e.into_error()))?
        .sync_all()
        .map_err(unwritable)?;
    std::fs::rename(&partial, path).map_err(unwritable)
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
    let _ = writeln!(
        std::io::stderr(),
        "{} keys: {} pass, {} fail, {} exempt, {} not applicable, {} error; {verdict}",
        s.total,
        s.pass,
        s.fail,
        s.exempt,
        s.not_applicable,
        s.error
    );
    for scope_error in &report.scope_errors {
        let _ = writeln!(
            std::io::stderr(),
            "not scanned: account {} region {}: {} {}: {}",
            scope_error.account_id.as_deref().unwrap_or("?"),
            scope_error.region.as_deref().unwrap_or("?"),
            scope_error.operation,
            scope_error.code,
            scope_error.message
        );
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
