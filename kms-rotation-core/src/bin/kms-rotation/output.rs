//! Where a report goes: stdout, or a file replaced atomically so a reader never sees half a report.

use std::io::{BufWriter, Write};
use std::path::Path;

use kms_rotation::{Error, ErrorKind, Format, Report, Result};

pub fn write_report(report: &Report, format: Format, output: Option<&Path>) -> Result<()> {
    match output {
        None => {
            let mut out = BufWriter::new(std::io::stdout().lock());
            report.render(format, &mut out)
        }
        Some(path) => {
            let unwritable = |e: std::io::Error| {
                Error::new(
                    ErrorKind::Unavailable,
                    format!("cannot write the report: {e}"),
                )
                .with_file(path)
            };
            let partial = path.with_extension("partial");
            let mut file = BufWriter::new(std::fs::File::create(&partial).map_err(unwritable)?);
            report.render(format, &mut file)?;
            file.into_inner()
                .map_err(|e| unwritable(e.into_error()))?
                .sync_all()
                .map_err(unwritable)?;
            std::fs::rename(&partial, path).map_err(unwritable)
        }
    }
}

/// One line for people, on stderr.
pub fn print_summary(report: &Report) {
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
