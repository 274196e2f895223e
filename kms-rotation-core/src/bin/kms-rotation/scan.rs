//! `kms-rotation scan`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Args;
use kms_rotation::{
    Format, InventorySource, KeySource, KeySourceExt, Policy, Result, ScanRequest, Scope,
};

use crate::connection::ConnectionArgs;
use crate::exit::{Code, FailOn};
use crate::output;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Read keys from an inventory file (formats.md) instead of AWS.
    #[arg(long, value_name = "FILE")]
    inventory: Option<PathBuf>,

    #[command(flatten)]
    connection: ConnectionArgs,

    /// Also read each key's last rotation (date and type). ListKeyRotations' quota is 100/s.
    #[arg(long)]
    with_rotation_history: bool,

    /// Read every key's tags, not only where an exception or priority may match by tag.
    #[arg(long)]
    all_tags: bool,

    /// Policy file, JSON or YAML (defaults: rule.md).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,

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

    /// Report format.
    #[arg(long, value_enum, default_value_t = FormatArg::Json)]
    format: FormatArg,

    /// Write the report here (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also save the key records read, as an inventory file: `scan --inventory` on it reproduces
    /// the same findings offline.
    #[arg(long, value_name = "FILE")]
    save_inventory: Option<PathBuf>,

    /// Which findings make the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    fail_on: FailOn,

    /// Evaluate as of this time (RFC 3339), e.g. to check exception expiry ahead of time.
    #[arg(long, value_name = "TIME")]
    now: Option<DateTime<Utc>>,

    /// Do not print the summary line on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    Json,
    Ndjson,
}

impl From<FormatArg> for Format {
    fn from(format: FormatArg) -> Format {
        match format {
            FormatArg::Json => Format::Json,
            FormatArg::Ndjson => Format::Ndjson,
        }
    }
}

pub async fn run(args: ScanArgs) -> Result<Code> {
    // Every input is read and checked before the source is touched.
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
    let scope = Scope {
        accounts: args.accounts.clone(),
        regions: args.regions.clone(),
    };
    scope.validate()?;
    let source = open_source(&args).await?;
    let request = ScanRequest {
        scope,
        policy,
        now: args.now,
        all_tags: args.all_tags,
        rotation_history: args.with_rotation_history,
        progress: if args.quiet {
            None
        } else {
            output::progress_on_terminal()
        },
    };
    let (report, records) = source.scan_with_records(&request).await?;
    if let Some(path) = &args.save_inventory {
        output::save_inventory(records, path)?;
    }
    output::write_report(&report, args.format.into(), args.output.as_deref())?;
    if !args.quiet {
        output::print_summary(&report);
    }
    Ok(Code::for_report(&report, args.fail_on))
}

async fn open_source(args: &ScanArgs) -> Result<Box<dyn KeySource>> {
    match &args.inventory {
        Some(path) => Ok(Box::new(InventorySource::from_path(path)?)),
        None => Ok(Box::new(args.connection.source(&args.regions).await?)),
    }
}
