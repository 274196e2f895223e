//! `kms-rotation scan`.

use std::io::IsTerminal;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Args;
use kms_rotation::ops::{self, RenderOptions, ScanOptions};
use kms_rotation::{Error, Format, Result, Status};
use serde::Serialize;

use crate::connection::ConnectionArgs;
use crate::exit::{Code, FailOn};
use crate::options::from_flags;
use crate::output;
use crate::progress::Progress;
use crate::table;

/// What to scan and how: the flags `scan` and `plan` share, named after the core's
/// `ScanOptions`.
#[derive(Debug, Args, Serialize)]
pub struct SourceArgs {
    /// Read keys from an inventory file instead of AWS.
    #[arg(long, value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory: Option<PathBuf>,

    #[command(flatten)]
    #[serde(flatten)]
    connection: ConnectionArgs,

    /// Also read each key's last rotation (date and type). ListKeyRotations' quota is 100/s.
    #[arg(long = "with-rotation-history")]
    rotation_history: bool,

    /// Read every key's tags, not only where an exception or priority may match by tag.
    #[arg(long)]
    all_tags: bool,

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
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    source: SourceArgs,

    /// Report format (default: table when stdout is a terminal, else json).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,

    /// Show only findings with these statuses (comma-separated or repeated): every key is still
    /// evaluated, and the summary and exit code still count them all. Not with json, which is
    /// always the whole report.
    #[arg(long, value_name = "STATUS", value_delimiter = ',', value_parser = status_arg())]
    status: Vec<Status>,

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

    /// No progress bar, and no summary line on stderr.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FormatArg {
    /// The whole report (what `plan --report` reads).
    Json,
    /// One finding per line, and nothing else.
    Ndjson,
    /// One row per finding under a fixed header, for spreadsheets.
    Csv,
    /// The verdict, the counts and the keys that need attention, for a pull request or a
    /// ticket.
    Markdown,
    /// One self-contained page: the counts, charts, and every finding in a table that sorts
    /// and filters, with the fix commands.
    Html,
    /// For people: a row per finding, grouped by status, then the summary.
    Table,
}

/// The core's status names, and only those.
fn status_arg() -> impl clap::builder::TypedValueParser<Value = Status> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Status::ALL.map(Status::as_str))
        .try_map(|name| serde_json::from_value::<Status>(serde_json::Value::String(name)))
}

pub async fn run(args: ScanArgs) -> Result<Code> {
    let format = args.format.unwrap_or(
        if args.output.is_none() && std::io::stdout().is_terminal() {
            FormatArg::Table
        } else {
            FormatArg::Json
        },
    );
    if format == FormatArg::Json && !args.status.is_empty() {
        return Err(Error::invalid_input(
            "a json report is always whole (`plan --report` reads it): filter with \
             --format table, ndjson, csv or markdown",
        )
        .with_field("--status"));
    }
    let options = ScanOptions {
        save_inventory: args.save_inventory.clone(),
        ..args.source.scan_options()?
    };
    let progress = Progress::scan(args.quiet);
    let mut report = ops::scan(options, progress.scan_callback()).await?;
    drop(progress);
    // Decided on every finding, whatever --status shows.
    let code = Code::for_report(&report, args.fail_on);
    let format = match format {
        FormatArg::Table => {
            let look = output::look(args.output.is_none());
            let mut text = Vec::new();
            table::write(&report, &args.status, look, &mut text)?;
            output::write_text(&text, args.output.as_deref())?;
            return Ok(code);
        }
        FormatArg::Json => Format::Json,
        FormatArg::Ndjson => Format::Ndjson,
        FormatArg::Csv => Format::Csv,
        FormatArg::Markdown => Format::Markdown,
        FormatArg::Html => Format::Html,
    };
    if !args.quiet {
        output::print_summary(&report);
    }
    if !args.status.is_empty() {
        report.findings.retain(|f| args.status.contains(&f.status));
    }
    let render = RenderOptions {
        report: Some(report),
        format: Some(format.as_str().to_owned()),
        ..RenderOptions::default()
    };
    output::write(render, args.output.as_deref())?;
    Ok(code)
}
