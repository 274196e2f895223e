//! `plan`: a remediation plan from a report, a report file, or a scan made first.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::report_source::report_from;
use super::scan::ScanOptions;
use crate::remediate::{self, Plan, Priority, Selection};
use crate::source::ProgressFn;
use crate::{Report, Result};

/// Options of [`plan`]. Exactly one of `report`, `report_file` and `scan` says what to plan
/// from.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PlanOptions {
    /// A report (a scan's result). Rechecked like a file: every verdict is recomputed from
    /// its evidence, so an edited report cannot widen the plan.
    pub report: Option<Report>,
    /// A saved JSON report, rechecked the same way.
    #[serde(alias = "reportFile")]
    pub report_file: Option<PathBuf>,
    /// Scan first, with these options (any source, AWS included).
    pub scan: Option<ScanOptions>,
    /// The rotation period to set (90-2560, at most the policy's maximum); default: the
    /// policy's `target_rotation_period_days`.
    #[serde(alias = "targetPeriodDays")]
    pub target_period_days: Option<u32>,
    /// The plan's order, most urgent first: `exposure` (public, then cross-account keys),
    /// `public`, `cross_account`, `production` (an `environment`/`env`/`stage` tag set to `prod`
    /// or `production`) or `tag:KEY=VALUE`; a key ranks at the first rule it matches, or as if
    /// it matched when the fact is missing. Default: `["exposure", "production"]`.
    pub priorities: Vec<Priority>,
    /// Actions per batch, at least 1.
    #[serde(alias = "batchSize")]
    pub batch_size: usize,
    /// Which failing keys the plan may act on (`include`, `exclude`: accounts, regions, arns,
    /// aliases, tags).
    pub selection: Selection,
    /// The plan's `generated_at`; the clock when absent.
    pub now: Option<DateTime<Utc>>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        let planner = remediate::PlanOptions::default();
        PlanOptions {
            report: None,
            report_file: None,
            scan: None,
            target_period_days: planner.target_period_days,
            priorities: planner.priorities,
            batch_size: planner.batch_size,
            selection: planner.selection,
            now: planner.now,
        }
    }
}

impl PlanOptions {
    fn planner(&self) -> remediate::PlanOptions {
        remediate::PlanOptions {
            target_period_days: self.target_period_days,
            priorities: self.priorities.clone(),
            batch_size: self.batch_size,
            selection: self.selection.clone(),
            now: self.now,
        }
    }

    /// The report to plan from: given, read, or scanned. A given or saved report is a file a
    /// user may have edited: it is rechecked.
    async fn report(self, progress: Option<ProgressFn>) -> Result<Report> {
        report_from(
            self.report,
            self.report_file,
            self.scan,
            progress,
            "plan from",
        )
        .await
    }
}

/// Plans the remediation of the report `options` name (see [`remediate::plan`]). The planner's
/// options are checked before anything is read or scanned.
pub async fn plan(options: PlanOptions, progress: Option<ProgressFn>) -> Result<Plan> {
    let planner = options.planner();
    planner.validate()?;
    let report = options.report(progress).await?;
    if !report.is_complete() {
        tracing::warn!(
            "the report is incomplete (some regions or accounts could not be listed): the plan \
             covers only what was scanned"
        );
    }
    remediate::plan(&report, &planner)
}
