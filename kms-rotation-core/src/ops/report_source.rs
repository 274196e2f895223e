//! Where an operation's report comes from: given, read from a file, or scanned first. A given
//! or saved report is a file a user may have edited, so it is rechecked before anything acts
//! on it.

use std::path::PathBuf;

use super::scan::{ScanOptions, under};
use crate::source::ProgressFn;
use crate::{Error, Report, Result};

/// The one report named by exactly one of `report`, `report_file` and `scan`; `nothing` says
/// what the operation would do (`"plan from"`, `"review"`) in the error when none is given.
pub(super) async fn report_from(
    report: Option<Report>,
    report_file: Option<PathBuf>,
    scan: Option<ScanOptions>,
    progress: Option<ProgressFn>,
    nothing: &str,
) -> Result<Report> {
    match (report, report_file, scan) {
        (Some(report), None, None) => report.rechecked().map_err(|e| under("report", e)),
        (None, Some(path), None) => Report::from_file(path),
        (None, None, Some(scan)) => super::scan(scan, progress).await,
        (None, None, None) => Err(Error::invalid_input(format!(
            "nothing to {nothing}: give a report, a report file, or scan options"
        ))
        .with_field("report")),
        _ => Err(
            Error::invalid_input("give one of a report, a report file, or scan options")
                .with_field("report"),
        ),
    }
}
