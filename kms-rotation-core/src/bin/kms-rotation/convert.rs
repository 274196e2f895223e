//! `kms-rotation convert`: a saved report in other formats, without scanning again.

use std::path::PathBuf;

use clap::Args;
use kms_rotation::{Report, Result};

use crate::exit::Code;
use crate::report_output::ReportOutputArgs;

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The report to convert (`scan --format json`). Every verdict in it is recomputed from its
    /// evidence first, and an edited one is refused (exit 2), as `plan --report` does.
    #[arg(long, value_name = "FILE")]
    report: PathBuf,

    #[command(flatten)]
    output: ReportOutputArgs,
}

/// Exit 0 once every rendering is written: converting judges nothing (the scan's exit code did).
pub async fn run(args: ConvertArgs) -> Result<Code> {
    let destinations = args.output.destinations()?;
    let report = Report::from_file(&args.report)?;
    args.output.write(report, &destinations)?;
    Ok(Code::Ok)
}
