//! `kms-rotation rollback`: undo what a journal says a run changed, appending to that journal.
//! Without `--yes` it is a dry run: it reads the journal, calls nothing and lists what would be
//! undone. What a run does is the core's `ops::rollback`.

use std::path::PathBuf;

use clap::Args;
use kms_rotation::Result;
use kms_rotation::ops::{self, RollbackOptions};
use kms_rotation::remediate::{RollbackOutcome, RollbackStatus};
use serde::Serialize;

use crate::connection::ConnectionArgs;
use crate::exit::Code;
use crate::options::from_flags;
use crate::outcome::{self, OutcomeFormat};
use crate::output::{self, note};
use crate::progress::Progress;

#[derive(Debug, Args, Serialize)]
pub struct RollbackArgs {
    /// The journal an `apply` wrote. Rollback appends its own events to it.
    #[arg(long, value_name = "FILE")]
    journal: PathBuf,

    /// Really change keys. Without it: a dry run that lists what would be undone.
    #[arg(long)]
    #[serde(skip)]
    yes: bool,

    /// Undo only this apply run (its `run_id`); default: every run in the journal.
    #[arg(long, value_name = "RUN_ID")]
    #[serde(skip_serializing_if = "Option::is_none")]
    only_run: Option<String>,

    #[command(flatten)]
    #[serde(flatten)]
    connection: ConnectionArgs,

    /// Write calls per second per account and region (0: no limit). DisableKeyRotation's quota
    /// is 5/s.
    #[arg(long, value_name = "N", default_value_t = RollbackOptions::default().writes_per_second)]
    writes_per_second: u32,

    /// Reads after each write until the old state shows.
    #[arg(long, value_name = "N", default_value_t = RollbackOptions::default().verify_attempts)]
    verify_attempts: u32,

    /// Pause between those reads, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = RollbackOptions::default().verify_delay_ms)]
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

pub async fn run(args: RollbackArgs) -> Result<Code> {
    let options: RollbackOptions = from_flags(&args, |map| {
        map.insert("dry_run".into(), (!args.yes).into());
    })?;
    let progress = Progress::remediation(args.quiet, "rolling back");
    let outcome = ops::rollback(options, progress.remediation_callback()).await?;
    drop(progress);
    output::print_outcome(
        &outcome,
        OutcomeFormat::or_default(args.format),
        outcome::rollback_table,
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

fn summarize(outcome: &RollbackOutcome) {
    if outcome.dry_run {
        note(format_args!(
            "dry run: {} key(s) would be restored if unchanged since ({} left alone); nothing was called or written. Pass --yes to roll back.",
            outcome.count(RollbackStatus::WouldRollBack),
            outcome.count(RollbackStatus::Skipped)
        ));
        return;
    }
    note(format_args!(
        "rollback run {}: {} rolled back, {} left alone, {} failed, {} not attempted",
        outcome.run_id,
        outcome.count(RollbackStatus::RolledBack),
        outcome.count(RollbackStatus::Skipped),
        outcome.count(RollbackStatus::Failed),
        outcome.count(RollbackStatus::NotAttempted)
    ));
}
