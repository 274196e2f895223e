//! `review_exceptions`: the review of a report's exceptions, from a report, a report file, or a
//! scan made first.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::report_source::report_from;
use super::scan::ScanOptions;
use crate::exceptions::{self, ExceptionsReview};
use crate::source::ProgressFn;
use crate::{Report, Result};

/// Options of [`review_exceptions`]. Exactly one of `report`, `report_file` and `scan` says
/// whose exceptions to review: those of the report's policy.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ExceptionsOptions {
    /// A report (a scan's result). Rechecked: every verdict is recomputed from its evidence.
    pub report: Option<Report>,
    /// A saved JSON report, rechecked the same way.
    #[serde(alias = "reportFile")]
    pub report_file: Option<PathBuf>,
    /// Scan first, with these options (any source, AWS included); the policy and exceptions
    /// reviewed are the scan's.
    pub scan: Option<ScanOptions>,
    /// Active exceptions whose expiry day is at most this many days away are `expiring`.
    #[serde(alias = "withinDays")]
    pub within_days: u32,
    /// The time of the review; the clock when absent. Days left count from its day (UTC).
    pub now: Option<DateTime<Utc>>,
}

impl Default for ExceptionsOptions {
    fn default() -> Self {
        ExceptionsOptions {
            report: None,
            report_file: None,
            scan: None,
            within_days: 30,
            now: None,
        }
    }
}

/// Reviews the exceptions of the report `options` name (see [`exceptions::review`]).
pub async fn review_exceptions(
    options: ExceptionsOptions,
    progress: Option<ProgressFn>,
) -> Result<ExceptionsReview> {
    let report = report_from(
        options.report,
        options.report_file,
        options.scan,
        progress,
        "review",
    )
    .await?;
    // The clock after the scan, so that the review is never older than its report.
    let now = options.now.unwrap_or_else(Utc::now);
    Ok(exceptions::review(&report, options.within_days, now))
}
