//! `kms-rotation merge`: one report from the reports of a scan split over several jobs.

use std::path::PathBuf;

use clap::Args;
use kms_rotation::Result;
use kms_rotation::ops::{self, MergeOptions};

use crate::exit::{Code, FailOn};
use crate::output;
use crate::report_output::ReportOutputArgs;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The parts' reports (`scan --format json`), each rechecked first (an edited one is exit 2).
    /// Parts must not overlap, and must share one policy and, ideally, one --now.
    #[arg(value_name = "REPORT", required = true)]
    reports: Vec<PathBuf>,

    #[command(flatten)]
    output: ReportOutputArgs,

    /// Which findings make the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    fail_on: FailOn,

    /// No summary line on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// Exit codes as `scan`'s for the merged report: 3 when a part was incomplete, else 1 when a
/// finding matches --fail-on, else 0.
pub async fn run(args: MergeArgs) -> Result<Code> {
    let destinations = args.output.destinations()?;
    let report = ops::merge(MergeOptions {
        report_files: args.reports,
        ..MergeOptions::default()
    })?;
    let code = Code::for_report(&report, args.fail_on);
    if !args.quiet && !ReportOutputArgs::table_on_stdout(&destinations) {
        output::print_summary(&report);
    }
    args.output.write(report, &destinations)?;
    Ok(code)
}
