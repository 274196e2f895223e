//! `kms-rotation plan`: a remediation plan from a saved report, or from a scan made first.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Args;
use kms_rotation::remediate::{KeyFilter, Plan, PlanFormat, PlanOptions, Selection, TagMatch};
use kms_rotation::{
    Error, ErrorKind, InventorySource, KeySourceExt, Policy, Report, Result, ScanRequest, Scope,
};

use crate::exit::Code;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A saved JSON report (`scan --format json`) to plan from.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["inventory", "policy", "exceptions", "regions", "accounts"])]
    report: Option<PathBuf>,

    /// Scan this inventory file first (formats.md), then plan.
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,

    /// Policy file for the scan, JSON or YAML.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,

    /// Exceptions file(s) for the scan, added to the policy's.
    #[arg(long, value_name = "FILE")]
    exceptions: Vec<PathBuf>,

    /// Scan only these regions (repeatable).
    #[arg(long = "region", value_name = "REGION")]
    regions: Vec<String>,

    /// Scan only these accounts (repeatable).
    #[arg(long = "account", value_name = "ACCOUNT_ID")]
    accounts: Vec<String>,

    /// Accept region names this release does not know (new regions, emulators).
    #[arg(long)]
    allow_unknown_region: bool,

    /// Evaluate as of this time (RFC 3339) when scanning.
    #[arg(long, value_name = "TIME")]
    now: Option<DateTime<Utc>>,

    /// The rotation period to set (90-2560, at most the policy's maximum); default: the
    /// policy's target_rotation_period_days.
    #[arg(long, value_name = "DAYS")]
    target_period_days: Option<u32>,

    /// Keys with this tag go first; repeat for lower priorities (first match wins).
    #[arg(long = "priority-tag", value_name = "KEY=VALUE")]
    priority_tags: Vec<String>,

    /// Actions per batch.
    #[arg(long, value_name = "N", default_value_t = 50)]
    batch_size: usize,

    #[command(flatten)]
    selection: SelectionArgs,

    /// Plan format: json (what `apply` reads), table, or script (aws CLI commands to review).
    #[arg(long, value_enum, default_value_t = FormatArg::Json)]
    format: FormatArg,

    /// Write the plan here (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Do not print the summary line on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// Which findings the plan may act on. Within one option any value may match; different
/// options must all match. Excludes by account, region or ARN also keep writes out of a
/// replica's primary.
#[derive(Debug, Args)]
struct SelectionArgs {
    #[arg(long = "include-account", value_name = "ACCOUNT_ID")]
    include_accounts: Vec<String>,
    #[arg(long = "include-region", value_name = "REGION")]
    include_regions: Vec<String>,
    #[arg(long = "include-arn", value_name = "ARN")]
    include_arns: Vec<String>,
    #[arg(long = "include-alias", value_name = "ALIAS")]
    include_aliases: Vec<String>,
    #[arg(long = "include-tag", value_name = "KEY=VALUE")]
    include_tags: Vec<String>,
    #[arg(long = "exclude-account", value_name = "ACCOUNT_ID")]
    exclude_accounts: Vec<String>,
    #[arg(long = "exclude-region", value_name = "REGION")]
    exclude_regions: Vec<String>,
    #[arg(long = "exclude-arn", value_name = "ARN")]
    exclude_arns: Vec<String>,
    #[arg(long = "exclude-alias", value_name = "ALIAS")]
    exclude_aliases: Vec<String>,
    #[arg(long = "exclude-tag", value_name = "KEY=VALUE")]
    exclude_tags: Vec<String>,
}

fn tags(values: &[String], option: &str) -> Result<Vec<TagMatch>> {
    values
        .iter()
        .map(|v| v.parse().map_err(|e: Error| e.with_field(option)))
        .collect()
}

impl SelectionArgs {
    fn selection(&self) -> Result<Selection> {
        Ok(Selection {
            include: KeyFilter {
                accounts: self.include_accounts.clone(),
                regions: self.include_regions.clone(),
                arns: self.include_arns.clone(),
                aliases: self.include_aliases.clone(),
                tags: tags(&self.include_tags, "--include-tag")?,
            },
            exclude: KeyFilter {
                accounts: self.exclude_accounts.clone(),
                regions: self.exclude_regions.clone(),
                arns: self.exclude_arns.clone(),
                aliases: self.exclude_aliases.clone(),
                tags: tags(&self.exclude_tags, "--exclude-tag")?,
            },
        })
    }
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Json,
    Table,
    Script,
}

impl From<FormatArg> for PlanFormat {
    fn from(format: FormatArg) -> PlanFormat {
        match format {
            FormatArg::Json => PlanFormat::Json,
            FormatArg::Table => PlanFormat::Table,
            FormatArg::Script => PlanFormat::Script,
        }
    }
}

pub async fn run(args: PlanArgs) -> Result<Code> {
    // Every option is checked before the report is read or a scan starts.
    let options = PlanOptions {
        target_period_days: args.target_period_days,
        priorities: tags(&args.priority_tags, "--priority-tag")?,
        batch_size: args.batch_size,
        selection: args.selection.selection()?,
        now: None,
    };
    let report = load_report(&args).await?;
    if !report.is_complete() && !args.quiet {
        note(format_args!(
            "kms-rotation: warning: the report is incomplete (some regions or accounts could not be listed); the plan covers only what was scanned"
        ));
    }
    let plan = kms_rotation::remediate::plan(&report, &options).map_err(name_the_flag)?;
    write_plan(&plan, args.format.into(), args.output.as_deref())?;
    if !args.quiet {
        note(format_args!(
            "plan: {} action(s) in {} batch(es), {} finding(s) skipped",
            plan.actions.len(),
            plan.batches(),
            plan.skips.len()
        ));
    }
    Ok(Code::Ok)
}

async fn load_report(args: &PlanArgs) -> Result<Report> {
    if let Some(path) = &args.report {
        return Report::from_file(path);
    }
    let Some(inventory) = &args.inventory else {
        return Err(Error::invalid_input(
            "nothing to plan from: give --report FILE or --inventory FILE",
        ));
    };
    let mut policy = match &args.policy {
        Some(path) => Policy::from_file(path)?,
        None => Policy::default(),
    };
    for path in &args.exceptions {
        policy.add_exceptions_file(path)?;
    }
    if !args.allow_unknown_region {
        kms_rotation::regions::check_known(&args.regions)?;
    }
    let source = InventorySource::from_path(inventory)?;
    source
        .scan(&ScanRequest {
            scope: Scope {
                accounts: args.accounts.clone(),
                regions: args.regions.clone(),
            },
            policy,
            now: args.now,
            ..ScanRequest::default()
        })
        .await
}

/// The core names the option a plan error is about by its field; a person typed a flag.
fn name_the_flag(err: Error) -> Error {
    let flag = match err.context().field.as_deref() {
        Some("selection.include.tags") => "--include-tag",
        Some("selection.exclude.tags") => "--exclude-tag",
        Some("selection.include.aliases") => "--include-alias",
        Some("selection.exclude.aliases") => "--exclude-alias",
        Some("priorities") => "--priority-tag",
        _ => return err,
    };
    err.with_field(flag)
}

/// Stdout, or a file replaced atomically so that `apply` never reads half a plan.
fn write_plan(plan: &Plan, format: PlanFormat, output: Option<&Path>) -> Result<()> {
    let Some(path) = output else {
        let mut out = BufWriter::new(std::io::stdout().lock());
        return plan.render(format, &mut out);
    };
    let unwritable = |e: std::io::Error| {
        Error::new(
            ErrorKind::Unavailable,
            format!("cannot write the plan: {e}"),
        )
        .with_file(path)
    };
    let partial = path.with_extension("partial");
    let mut file = BufWriter::new(std::fs::File::create(&partial).map_err(unwritable)?);
    plan.render(format, &mut file)?;
    let file = file.into_inner().map_err(|e| unwritable(e.into_error()))?;
    file.sync_all().map_err(unwritable)?;
    drop(file);
    std::fs::rename(&partial, path).map_err(unwritable)?;
    if format == PlanFormat::Script {
        make_executable(path);
    }
    Ok(())
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

/// Prints to stderr, ignoring a closed stderr (the CLI must not panic on `2>&-`).
pub fn note(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{message}");
}
