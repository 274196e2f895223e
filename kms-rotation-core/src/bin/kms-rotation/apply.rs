//! `kms-rotation apply`: run a plan against AWS, journaling every step. Without `--yes` it is a
//! dry run: the plan is checked, nothing is called or written, and every action is reported as
//! `would_remediate`. What a run does is the core's `ops::apply`; this turns flags into its
//! options and its outcome into output and an exit code.

use std::path::PathBuf;

use clap::Args;
use kms_rotation::Result;
use kms_rotation::ops::{self, ApplyOptions};
use kms_rotation::remediate::{ActionStatus, ApplyOutcome};
use serde::Serialize;

use crate::connection::ConnectionArgs;
use crate::exit::Code;
use crate::options::from_flags;
use crate::outcome::{self, OutcomeFormat};
use crate::output::{self, note};
use crate::progress::Progress;

#[derive(Debug, Args, Serialize)]
pub struct ApplyArgs {
    /// The plan file (`kms-rotation plan --format json`). Checked completely before anything
    /// else happens.
    #[arg(long = "plan", value_name = "FILE")]
    plan_file: PathBuf,

    /// Only this batch of the plan (repeatable, or comma-separated): a rollout batch by batch,
    /// with a re-scan in between. Default: every batch.
    #[arg(long = "batch", value_name = "N", value_delimiter = ',')]
    batches: Vec<usize>,

    /// Append every step here (NDJSON): what `rollback` reads. Required with --yes.
    #[arg(long, value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    journal: Option<PathBuf>,

    /// Really change keys. Without it: a dry run that calls nothing and writes nothing.
    #[arg(long)]
    #[serde(skip)]
    yes: bool,

    #[command(flatten)]
    #[serde(flatten)]
    connection: ConnectionArgs,

    /// Write calls per second per account and region (0: no limit).
    #[arg(long, value_name = "N", default_value_t = ApplyOptions::default().writes_per_second)]
    writes_per_second: u32,

    /// Keys changed at once.
    #[arg(long, value_name = "N", default_value_t = ApplyOptions::default().concurrency)]
    concurrency: usize,

    /// Stop after this many failures in a row (0: never).
    #[arg(long, value_name = "N", default_value_t = ApplyOptions::default().max_consecutive_failures)]
    max_consecutive_failures: usize,

    /// Reads after each write until the change shows.
    #[arg(long, value_name = "N", default_value_t = ApplyOptions::default().verify_attempts)]
    verify_attempts: u32,

    /// Pause between those reads, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = ApplyOptions::default().verify_delay_ms)]
    verify_delay_ms: u64,

    /// Outcome format: json, or table (one row per key). Default: table when stdout is a
    /// terminal, else json.
    #[arg(long, value_enum)]
    #[serde(skip)]
    format: Option<OutcomeFormat>,

    /// No progress bar, and no summary on stderr.
    #[arg(long, short)]
    #[serde(skip)]
    quiet: bool,
}

pub async fn run(args: ApplyArgs) -> Result<Code> {
    let options: ApplyOptions = from_flags(&args, |map| {
        map.insert("dry_run".into(), (!args.yes).into());
    })?;
    let progress = Progress::remediation(args.quiet, "applying");
    let outcome = ops::apply(options, progress.remediation_callback()).await?;
    drop(progress);
    output::print_outcome(
        &outcome,
        OutcomeFormat::or_default(args.format),
        outcome::apply_table,
        &outcome.journal_warnings,
        outcome.journal_error.as_deref(),
    )?;
    if !args.quiet {
        summarize(&outcome);
    }
    Ok(Code::for_outcome(
        outcome.journal_error.is_some(),
        outcome.is_success(),
    ))
}

fn summarize(outcome: &ApplyOutcome) {
    if outcome.dry_run {
        note(format_args!(
            "dry run: {} key(s) would be changed; nothing was called or written. Pass --yes (and --journal FILE) to apply.",
            outcome.count(ActionStatus::WouldRemediate)
        ));
        return;
    }
    let counts: Vec<String> = [
        ActionStatus::Remediated,
        ActionStatus::Skipped,
        ActionStatus::VerificationFailed,
        ActionStatus::Failed,
        ActionStatus::NotAttempted,
    ]
    .iter()
    .map(|s| format!("{} {}", outcome.count(*s), s.as_str()))
    .collect();
    note(format_args!(
        "apply run {}: {}",
        outcome.run_id,
        counts.join(", ")
    ));
    if let Some(stopped) = &outcome.stopped {
        note(format_args!("STOPPED: {stopped}"));
    }
}
