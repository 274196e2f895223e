//! `kms-rotation scan`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Args;
use kms_rotation::Result;
use kms_rotation::ops::{self, ScanOptions};
use kms_rotation::source::Need;
use serde::Serialize;

use crate::connection::ConnectionArgs;
use crate::exit::{Code, FailOn};
use crate::options::from_flags;
use crate::output;
use crate::progress::Progress;
use crate::report_output::ReportOutputArgs;
use crate::security_hub::SecurityHubArgs;

/// What to scan and how: the flags `scan` and `plan` share, named after the core's
/// `ScanOptions`.
#[derive(Debug, Args, Serialize)]
pub struct SourceArgs {
    /// Read keys from an inventory file instead of AWS.
    #[arg(long, value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory: Option<PathBuf>,

    /// Read the KMS keys of a Terraform plan in JSON (`terraform show -json PLANFILE`)
    /// instead of AWS: a check before apply.
    #[arg(long, value_name = "FILE", conflicts_with = "inventory")]
    #[serde(skip_serializing_if = "Option::is_none")]
    terraform_plan: Option<PathBuf>,

    /// Read the KMS keys of CloudFormation templates (JSON or YAML) instead of AWS: a check
    /// before deploy.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["inventory", "terraform_plan"])]
    cloudformation: Vec<PathBuf>,

    #[command(flatten)]
    #[serde(flatten)]
    connection: ConnectionArgs,

    /// Also read each key's last rotation (date and type). ListKeyRotations' quota is 100/s.
    #[arg(long = "with-rotation-history")]
    rotation_history: bool,

    /// Read every key's tags, not only where an exception or priority may match by tag.
    #[arg(long)]
    all_tags: bool,

    /// When to read who beyond the account may use a key (GetKeyPolicy, ListGrants):
    /// when_failing (default; the plan fixes exposed keys first), always, or never.
    #[arg(long, value_name = "WHEN",
          value_parser = clap::builder::PossibleValuesParser::new(Need::ALL.map(Need::as_str)))]
    #[serde(skip_serializing_if = "Option::is_none")]
    exposure: Option<String>,

    /// Policy file, JSON or YAML (default: the rule's defaults).
    #[arg(long = "policy", value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_file: Option<PathBuf>,

    /// Exceptions file(s), JSON or YAML: `{"exceptions": [...]}`, added to the policy's.
    #[arg(long, value_name = "FILE")]
    exceptions: Vec<PathBuf>,

    /// Only these regions (repeatable). For AWS: the regions to scan (default: the configured
    /// region, or every enabled one with --all-regions).
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,

    /// Only these accounts (repeatable; 12 digits). An account given here that the scan cannot
    /// read (no role for it, no key listed in it) makes the report incomplete (exit 3).
    #[arg(long = "account", value_name = "ACCOUNT_ID")]
    accounts: Vec<String>,

    /// Accept region names this release does not know (new regions, emulators).
    #[arg(long)]
    allow_unknown_region: bool,

    /// Scan one part of the account and region pairs: INDEX/COUNT, counted from 0 (0/4 to 3/4,
    /// like JOB_COMPLETION_INDEX or a matrix index). COUNT scans with the same flags cover every
    /// pair once; `merge` makes one report of them.
    #[arg(long, value_name = "INDEX/COUNT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<String>,

    /// Evaluate as of this time (RFC 3339), e.g. to check exception expiry ahead of time.
    #[arg(long, value_name = "TIME")]
    #[serde(skip_serializing_if = "Option::is_none")]
    now: Option<DateTime<Utc>>,
}

impl SourceArgs {
    /// The core's scan options for these flags.
    pub fn scan_options(&self) -> Result<ScanOptions> {
        from_flags(self, |_| {})
    }

    /// The core's `scan` options as JSON, for an operation that scans first; `None` when it
    /// reads a report instead (`report`), which clap keeps apart from these flags.
    pub fn scan_unless(&self, report: bool) -> Result<Option<serde_json::Value>> {
        if report {
            return Ok(None);
        }
        serde_json::to_value(self).map(Some).map_err(|e| {
            kms_rotation::Error::new(kms_rotation::ErrorKind::Unexpected, e.to_string())
        })
    }

    /// The time given with --now, if any.
    pub fn now(&self) -> Option<DateTime<Utc>> {
        self.now
    }
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    source: SourceArgs,

    #[command(flatten)]
    output: ReportOutputArgs,

    /// Also save the key records read, as an inventory file: `scan --inventory` on it reproduces
    /// the same findings offline.
    #[arg(long, value_name = "FILE")]
    save_inventory: Option<PathBuf>,

    #[command(flatten)]
    security_hub: SecurityHubArgs,

    /// Which findings make the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    fail_on: FailOn,

    /// No progress bar, and no summary line on stderr.
    #[arg(long, short)]
    quiet: bool,
}

pub async fn run(args: ScanArgs) -> Result<Code> {
    let destinations = args.output.destinations()?;
    if let Some(inventory) = &args.save_inventory {
        ReportOutputArgs::refuse_overlap(&destinations, inventory, "--save-inventory")?;
    }
    let security_hub =
        (args.security_hub).options(&args.source.connection, args.source.allow_unknown_region)?;
    let options = ScanOptions {
        save_inventory: args.save_inventory.clone(),
        ..args.source.scan_options()?
    };
    let progress = Progress::scan(args.quiet);
    let report = ops::scan(options, progress.scan_callback()).await?;
    drop(progress);
    // Decided on every finding, whatever --status shows.
    let mut code = Code::for_report(&report, args.fail_on);
    if !args.quiet && !ReportOutputArgs::table_on_stdout(&destinations) {
        output::print_summary(&report);
    }
    // The report is written first: whatever Security Hub does, the scan's result is kept.
    let sent = security_hub.map(|options| (options, report.clone()));
    args.output.write(report, &destinations)?;
    if let Some((options, report)) = sent
        && !crate::security_hub::send(options, report, args.quiet).await?
    {
        code = Code::Incomplete;
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use clap::{Args, CommandFactory};

    use super::SourceArgs;

    /// `plan` and `exceptions` take a saved report or the scan's flags: with --report, every
    /// scan flag (but `exceptions`' --now, the review's time) must be refused, or it would be
    /// silently ignored. A flag added to `SourceArgs` fails this until the conflicts name it.
    #[test]
    fn report_conflicts_with_every_scan_flag() {
        let scan_flags = SourceArgs::augment_args(clap::Command::new("scan"));
        for (subcommand, allowed) in [("plan", &[][..]), ("exceptions", &["now"][..])] {
            let mut command = crate::Cli::command();
            command.build();
            let command = command.find_subcommand(subcommand).unwrap();
            let report = command
                .get_arguments()
                .find(|a| a.get_id() == "report_file")
                .unwrap();
            let conflicts: Vec<&str> = command
                .get_arg_conflicts_with(report)
                .iter()
                .map(|a| a.get_id().as_str())
                .collect();
            for flag in scan_flags.get_arguments() {
                let id = flag.get_id().as_str();
                if !allowed.contains(&id) {
                    assert!(conflicts.contains(&id), "{subcommand} --report and {id}");
                }
            }
        }
    }
}
