//! `kms-rotation exceptions`: the review of a report's exceptions (expired, unused, unknown,
//! expiring, active), from a saved report or from a scan made first, with the flags of `scan`.

use std::path::PathBuf;

use clap::Args;
use kms_rotation::Result;
use kms_rotation::exceptions::ExceptionsFormat;
use kms_rotation::ops::{self, ExceptionsOptions};
use serde::Serialize;

use crate::exit::Code;
use crate::options::{from_flags, wire_enum};
use crate::output::{self, note};
use crate::progress::Progress;
use crate::scan::SourceArgs;

#[derive(Debug, Args, Serialize)]
pub struct ExceptionsArgs {
    /// A saved JSON report (`scan --format json`) whose exceptions to review, instead of
    /// scanning; the scan and AWS flags but --now cannot be given with it.
    // The conflicts name every field of `SourceArgs` but `now` (the review's time too), and
    // the connection group.
    #[arg(long = "report", value_name = "FILE", conflicts_with_all = [
        "inventory", "terraform_plan", "cloudformation", "policy_file", "exceptions", "regions", "accounts", "allow_unknown_region", "shard",
        "rotation_history", "all_tags", "exposure", "ConnectionArgs",
    ])]
    #[serde(skip_serializing_if = "Option::is_none")]
    report_file: Option<PathBuf>,

    /// What to scan first (without --report): the flags of `scan`. --now is also the time of
    /// the review, with or without --report.
    #[command(flatten)]
    #[serde(skip)]
    source: SourceArgs,

    /// Active exceptions expiring within this many days are `expiring`.
    #[arg(long, value_name = "DAYS", default_value_t = ExceptionsOptions::default().within_days)]
    within_days: u32,

    /// Output format: table, json or markdown. Default: table when stdout is a terminal, else
    /// json.
    #[arg(long, value_parser = wire_enum::<ExceptionsFormat>(ExceptionsFormat::ALL.map(ExceptionsFormat::as_str)))]
    #[serde(skip)]
    format: Option<ExceptionsFormat>,

    /// Write the review here (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    #[serde(skip)]
    output: Option<PathBuf>,

    /// No progress bar, and no summary line on stderr.
    #[arg(long, short)]
    #[serde(skip)]
    quiet: bool,
}

pub async fn run(args: ExceptionsArgs) -> Result<Code> {
    let scan = args.source.scan_unless(args.report_file.is_some())?;
    let options: ExceptionsOptions = from_flags(&args, |map| {
        if let Some(scan) = scan {
            map.insert("scan".into(), scan);
        }
        if let Some(now) = args.source.now() {
            map.insert("now".into(), now.to_rfc3339().into());
        }
    })?;
    let progress = Progress::scan(args.quiet);
    let review = ops::review_exceptions(options, progress.scan_callback()).await?;
    drop(progress);
    if !args.quiet {
        let s = &review.summary;
        note(format_args!(
            "exceptions: {} expired, {} unused, {} unknown, {} expiring, {} active",
            s.expired, s.unused, s.unknown, s.expiring, s.active
        ));
    }
    let format = args
        .format
        .unwrap_or(if output::for_people(args.output.as_deref()) {
            ExceptionsFormat::Table
        } else {
            ExceptionsFormat::Json
        });
    let text = review.render_to_string(format)?;
    output::write_text(text.as_bytes(), args.output.as_deref())?;
    Ok(Code::for_exceptions(&review))
}
