//! `merge`: one report from the reports of a scan split over several processes.

use std::path::PathBuf;

use serde::Deserialize;

use super::scan::under;
use crate::{Error, Report, Result};

/// Options of [`merge`]: the parts, as reports, files, or both (at least one in all).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MergeOptions {
    /// Reports (scan results), each rechecked: every verdict is recomputed from its evidence,
    /// and an edited one is refused.
    pub reports: Vec<Report>,
    /// Saved JSON reports (`scan --format json`), rechecked the same way; they follow
    /// `reports` as parts.
    #[serde(alias = "reportFiles")]
    pub report_files: Vec<PathBuf>,
}

/// The one report a single scan of every part's accounts and regions would have made (see
/// [`crate::report::merge`]). Refused: no part, an edited part, parts under different policies,
/// parts that overlap, and parts whose verdicts differ at the earliest part's time.
pub fn merge(options: MergeOptions) -> Result<Report> {
    let given = options.reports.len();
    let mut parts = Vec::with_capacity(given + options.report_files.len());
    for (i, report) in options.reports.into_iter().enumerate() {
        parts.push(
            report
                .rechecked()
                .map_err(|e| under(&format!("reports[{i}]"), e))?,
        );
    }
    for path in &options.report_files {
        parts.push(Report::from_file(path)?);
    }
    if parts.is_empty() {
        return Err(
            Error::invalid_input("give the reports to merge, or their files").with_field("reports"),
        );
    }
    // Name a part by its file where it has one.
    crate::report::merge(parts).map_err(|e| {
        let part = e.context().field.as_deref().and_then(|field| {
            let index: usize = field
                .strip_prefix("reports[")?
                .split(']')
                .next()?
                .parse()
                .ok()?;
            options.report_files.get(index.checked_sub(given)?).cloned()
        });
        match part {
            Some(path) => e.with_file(path),
            None => e,
        }
    })
}
