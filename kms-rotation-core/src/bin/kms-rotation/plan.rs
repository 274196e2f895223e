//! `kms-rotation plan`: a remediation plan from a saved report, or from a scan made first (an
//! inventory file or AWS, with the same flags as `scan`).

use std::path::{Path, PathBuf};

use clap::Args;
use kms_rotation::Result;
use kms_rotation::ops::{self, PlanOptions, RenderOptions};
use kms_rotation::remediate::PlanFormat;
use serde::Serialize;
use serde_json::json;

use crate::exit::Code;
use crate::options::{from_flags, wire_enum};
use crate::output::{self, note};
use crate::progress::Progress;
use crate::scan::SourceArgs;

#[derive(Debug, Args, Serialize)]
pub struct PlanArgs {
    /// A saved JSON report (`scan --format json`) to plan from, instead of scanning; the scan
    /// and AWS flags cannot be given with it.
    // The conflicts name every field of `SourceArgs` and the connection group.
    #[arg(long = "report", value_name = "FILE", conflicts_with_all = [
        "inventory", "terraform_plan", "cloudformation", "policy_file", "exceptions", "regions", "accounts", "allow_unknown_region", "shard",
        "now", "rotation_history", "all_tags", "exposure", "ConnectionArgs",
    ])]
    #[serde(skip_serializing_if = "Option::is_none")]
    report_file: Option<PathBuf>,

    /// What to scan first (without --report): the flags of `scan`.
    #[command(flatten)]
    #[serde(skip)]
    source: SourceArgs,

    /// The rotation period to set (90-2560, at most the policy's maximum); default: the
    /// policy's target_rotation_period_days.
    #[arg(long, value_name = "DAYS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    target_period_days: Option<u32>,

    /// The plan's order, most urgent first (comma-separated or repeated; first match wins):
    /// exposure (public, then cross-account keys), public, cross_account, production, or
    /// tag:KEY=VALUE. A key whose exposure or tags were not read ranks as if it matched.
    /// Default: exposure,production.
    #[arg(long = "priority", value_name = "RULE", value_delimiter = ',')]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    priorities: Vec<String>,

    /// Actions per batch.
    #[arg(long, value_name = "N", default_value_t = PlanOptions::default().batch_size)]
    batch_size: usize,

    #[command(flatten)]
    #[serde(skip)]
    selection: SelectionArgs,

    /// Plan format: json (what `apply` reads), table, or script (aws CLI commands to review).
    /// Default: table when stdout is a terminal, else json.
    #[arg(long, value_parser = wire_enum::<PlanFormat>(PlanFormat::ALL.map(PlanFormat::as_str)))]
    #[serde(skip)]
    format: Option<PlanFormat>,

    /// Write the plan here (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    #[serde(skip)]
    output: Option<PathBuf>,

    /// No progress bar, and no summary line on stderr.
    #[arg(long, short)]
    #[serde(skip)]
    quiet: bool,
}

/// Which findings the plan may act on. Within one option any value may match; different
/// options must all match. Excludes by account, region or ARN also keep writes out of a
/// replica's primary.
#[derive(Debug, Args)]
struct SelectionArgs {
    /// Only keys of this account (repeatable).
    #[arg(
        long = "include-account",
        value_name = "ACCOUNT_ID",
        help_heading = "Keys the plan may act on"
    )]
    include_accounts: Vec<String>,
    /// Only keys in this region (repeatable).
    #[arg(
        long = "include-region",
        value_name = "REGION",
        help_heading = "Keys the plan may act on"
    )]
    include_regions: Vec<String>,
    /// Only this key (repeatable).
    #[arg(
        long = "include-arn",
        value_name = "ARN",
        help_heading = "Keys the plan may act on"
    )]
    include_arns: Vec<String>,
    /// Only keys with this alias, e.g. alias/payments (repeatable).
    #[arg(
        long = "include-alias",
        value_name = "ALIAS",
        help_heading = "Keys the plan may act on"
    )]
    include_aliases: Vec<String>,
    /// Only keys with this tag (repeatable).
    #[arg(
        long = "include-tag",
        value_name = "KEY=VALUE",
        help_heading = "Keys the plan may act on"
    )]
    include_tags: Vec<String>,
    /// Never keys of this account, nor replicas whose primary is there (repeatable).
    #[arg(
        long = "exclude-account",
        value_name = "ACCOUNT_ID",
        help_heading = "Keys the plan may act on"
    )]
    exclude_accounts: Vec<String>,
    /// Never keys in this region, nor replicas whose primary is there (repeatable).
    #[arg(
        long = "exclude-region",
        value_name = "REGION",
        help_heading = "Keys the plan may act on"
    )]
    exclude_regions: Vec<String>,
    /// Never this key, nor a write to it on behalf of its replicas (repeatable).
    #[arg(
        long = "exclude-arn",
        value_name = "ARN",
        help_heading = "Keys the plan may act on"
    )]
    exclude_arns: Vec<String>,
    /// Never keys with this alias (repeatable).
    #[arg(
        long = "exclude-alias",
        value_name = "ALIAS",
        help_heading = "Keys the plan may act on"
    )]
    exclude_aliases: Vec<String>,
    /// Never keys with this tag (repeatable).
    #[arg(
        long = "exclude-tag",
        value_name = "KEY=VALUE",
        help_heading = "Keys the plan may act on"
    )]
    exclude_tags: Vec<String>,
}

impl SelectionArgs {
    /// The core's `selection` (`{include: {...}, exclude: {...}}`).
    fn to_json(&self) -> serde_json::Value {
        json!({
            "include": {
                "accounts": self.include_accounts,
                "regions": self.include_regions,
                "arns": self.include_arns,
                "aliases": self.include_aliases,
                "tags": self.include_tags,
            },
            "exclude": {
                "accounts": self.exclude_accounts,
                "regions": self.exclude_regions,
                "arns": self.exclude_arns,
                "aliases": self.exclude_aliases,
                "tags": self.exclude_tags,
            },
        })
    }
}

pub async fn run(args: PlanArgs) -> Result<Code> {
    // Without --report, plan from a scan made with the scan flags (clap refuses both).
    let scan = args.source.scan_unless(args.report_file.is_some())?;
    let options: PlanOptions = from_flags(&args, |map| {
        map.insert("selection".into(), args.selection.to_json());
        if let Some(scan) = scan {
            map.insert("scan".into(), scan);
        }
    })?;
    let progress = Progress::scan(args.quiet);
    let plan = ops::plan(options, progress.scan_callback()).await?;
    drop(progress);
    if !args.quiet {
        note(format_args!(
            "plan: {} action(s) in {} batch(es), {} finding(s) skipped",
            plan.actions.len(),
            plan.batches(),
            plan.skips.len()
        ));
    }
    let format = args
        .format
        .unwrap_or(if output::for_people(args.output.as_deref()) {
            PlanFormat::Table
        } else {
            PlanFormat::Json
        });
    let render = RenderOptions {
        plan: Some(plan),
        format: Some(format.as_str().to_owned()),
        ..RenderOptions::default()
    };
    output::write(render, args.output.as_deref())?;
    if let (PlanFormat::Script, Some(path)) = (format, &args.output) {
        make_executable(path);
    }
    Ok(Code::Ok)
}

/// A script plan is meant to be run after review; failing to mark it is not worth an error.
fn make_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
    }
    #[cfg(not(unix))]
    let _ = path;
}
