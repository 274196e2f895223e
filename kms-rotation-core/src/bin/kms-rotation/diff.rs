//! `kms-rotation diff OLD NEW`: the progress between two saved reports, from the core's diff and
//! its renderings. Its exit code lets a scheduled job alert on drift.

use std::path::PathBuf;

use clap::Args;
use kms_rotation::Result;
use kms_rotation::diff::DiffFormat;
use kms_rotation::ops::{self, DiffOptions};
use serde::Serialize;

use crate::exit::Code;
use crate::options::{from_flags, wire_enum};
use crate::output::{for_people, write_text};

#[derive(Debug, Args, Serialize)]
pub struct DiffArgs {
    /// The older report (`scan --format json`). Every verdict in it is recomputed from its
    /// evidence first, and an edited one is refused (exit 2), as `convert` does.
    #[arg(value_name = "OLD")]
    old_file: PathBuf,

    /// The newer report, checked the same way; it must not be older than OLD.
    #[arg(value_name = "NEW")]
    new_file: PathBuf,

    /// Output format: table (for people), json (for programs) or markdown (for a ticket).
    /// Default: table when stdout is a terminal, else json.
    #[arg(long, value_parser = wire_enum::<DiffFormat>(DiffFormat::ALL.map(DiffFormat::as_str)))]
    #[serde(skip)]
    format: Option<DiffFormat>,

    /// Write the diff to this file (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    #[serde(skip)]
    output: Option<PathBuf>,
}

/// The diff is written whatever it says; then 3 when either report is incomplete (keys there
/// were not compared), 1 when a key regressed, lapsed or newly fails, else 0.
pub fn run(args: DiffArgs) -> Result<Code> {
    let options: DiffOptions = from_flags(&args, |_| {})?;
    let diff = ops::diff(options)?;
    let format = args
        .format
        .unwrap_or(if for_people(args.output.as_deref()) {
            DiffFormat::Table
        } else {
            DiffFormat::Json
        });
    let text = diff.render_to_string(format)?;
    write_text(text.as_bytes(), args.output.as_deref())?;
    Ok(if !(diff.old.complete && diff.new.complete) {
        Code::Incomplete
    } else if diff.worse {
        Code::Findings
    } else {
        Code::Ok
    })
}
