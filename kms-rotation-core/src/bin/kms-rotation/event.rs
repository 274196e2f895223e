//! `kms-rotation event --file EVENT.json`: re-check the keys a KMS CloudTrail event (as
//! EventBridge delivers it) touches, and with `--remediate` fix them through plan and apply (a
//! dry run without `--yes`). An event of another kind is ignored, with the reason on stderr.

use std::path::PathBuf;

use clap::Args;
use kms_rotation::Result;
use kms_rotation::ops::{self, EventOptions};
use kms_rotation::remediate::ApplyOutcome;
use serde::Serialize;

use crate::exit::{Code, FailOn};
use crate::options::from_flags;
use crate::output::{self, note};
use crate::report_output::ReportOutputArgs;
use crate::scan::SourceArgs;

#[derive(Debug, Args, Serialize)]
pub struct EventArgs {
    /// The EventBridge event (JSON, or YAML by extension).
    #[arg(long = "file", value_name = "EVENT.json")]
    event_file: PathBuf,

    #[command(flatten)]
    #[serde(rename = "scan")]
    source: SourceArgs,

    #[command(flatten)]
    #[serde(skip)]
    output: ReportOutputArgs,

    /// Plan and apply the fix of the touched keys that fail (a dry run without --yes).
    #[arg(long)]
    remediate: bool,

    /// With --remediate --yes: append every step here (NDJSON), what `rollback` reads.
    #[arg(long, value_name = "FILE", requires = "remediate")]
    #[serde(skip_serializing_if = "Option::is_none")]
    journal: Option<PathBuf>,

    /// With --remediate: the rotation period to set (default: the policy's target).
    #[arg(
        long = "target-period-days",
        value_name = "DAYS",
        requires = "remediate"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    target_period_days: Option<u32>,

    /// With --remediate: change the keys. Without it, nothing is called or written.
    #[arg(long, requires = "remediate")]
    #[serde(skip)]
    yes: bool,

    /// Which findings make the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    #[serde(skip)]
    fail_on: FailOn,

    /// No summary on stderr (an ignored event's reason is still given).
    #[arg(long, short)]
    #[serde(skip)]
    quiet: bool,
}

pub async fn run(args: EventArgs) -> Result<Code> {
    let destinations = args.output.destinations()?;
    let options: EventOptions = from_flags(&args, |map| {
        map.insert("dry_run".into(), (!args.yes).into());
    })?;
    let outcome = ops::event(options, None).await?;
    if let Some(reason) = &outcome.ignored {
        note(format_args!("event ignored: {reason}"));
        return Ok(Code::Ok);
    }
    for key in &outcome.not_found {
        note(format_args!(
            "NOT FOUND: key {} in {} / {}: the event names it, but its region's listing does not have it (not re-checked)",
            key.key_id, key.account_id, key.region
        ));
    }
    let Some(report) = outcome.report.clone() else {
        return Ok(Code::Ok);
    };
    let mut code = Code::for_report(&report, args.fail_on);
    if !outcome.not_found.is_empty() {
        code = Code::Incomplete;
    }
    if !args.quiet && !ReportOutputArgs::table_on_stdout(&destinations) {
        if let Some(name) = &outcome.event_name {
            note(format_args!(
                "{name}: {} key(s) re-checked",
                outcome.keys.len()
            ));
        }
        output::print_summary(&report);
    }
    args.output.write(report, &destinations)?;
    if let Some(remediation) = &outcome.remediation {
        summarize(remediation);
        // A real run's result decides, unless a key could not be re-checked at all.
        if !remediation.dry_run && code != Code::Incomplete {
            code = Code::for_outcome(
                remediation.journal_error.is_some(),
                remediation.is_success(),
            );
        }
    }
    Ok(code)
}

/// Each action on stderr: the report on stdout stays one document.
fn summarize(outcome: &ApplyOutcome) {
    for result in &outcome.results {
        let why = result.reason.as_deref().unwrap_or("");
        note(format_args!(
            "remediation: {} {} {why}",
            result.status.as_str(),
            result.target_arn
        ));
    }
    if outcome.dry_run {
        note(format_args!(
            "dry run: nothing was called or written. Pass --yes (and --journal FILE) to apply."
        ));
    }
    if let Some(error) = &outcome.journal_error {
        note(format_args!("JOURNAL FAILED: {error}"));
    }
}
