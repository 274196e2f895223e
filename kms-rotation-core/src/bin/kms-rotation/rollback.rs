//! `kms-rotation rollback`: undo what a journal says a run changed, appending to that journal.
//! Without `--yes` it is a dry run: it prints what it would undo and calls nothing. With it, the
//! journal is locked for the whole run; a torn last line is reported and ignored.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use kms_rotation::model::KeyArn;
use kms_rotation::remediate::{
    Journal, RollbackOptions, RollbackOutcome, RollbackStatus, Verify, undo_list,
};
use kms_rotation::{Error, ErrorKind, Result};

use crate::connection::ConnectionArgs;
use crate::exit::Code;
use crate::plan::note;

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The journal an `apply` wrote. Rollback appends its own events to it.
    #[arg(long, value_name = "FILE")]
    journal: PathBuf,

    /// Really change keys. Without it: a dry run that lists what would be undone.
    #[arg(long)]
    yes: bool,

    /// Undo only this apply run (its `run_id`); default: every run in the journal.
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,

    #[command(flatten)]
    connect: ConnectionArgs,

    /// Write calls per second per account and region (0: no limit). DisableKeyRotation's quota
    /// is 5/s.
    #[arg(long, value_name = "N", default_value_t = 4)]
    writes_per_second: u32,

    /// Reads after each write until the old state shows.
    #[arg(long, value_name = "N", default_value_t = 10)]
    verify_attempts: u32,

    /// Pause between those reads, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    verify_delay_ms: u64,

    /// Do not print the summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

pub async fn run(args: RollbackArgs) -> Result<Code> {
    // A real run locks the journal before reading it, so no apply can append in between; a dry
    // run only reads.
    let journal = if args.yes {
        Journal::open_existing(&args.journal)?
    } else {
        Journal::read_only(&args.journal)?
    };
    let entries = journal.read_entries()?;
    for warning in journal.warnings() {
        note(format_args!("kms-rotation: warning: {warning}"));
    }
    let undos = undo_list(&entries, args.run_id.as_deref());
    if !args.yes {
        let mut out = BufWriter::new(std::io::stdout().lock());
        let written = undos.iter().try_for_each(|undo| {
            let restore = match undo.restore.effective_period() {
                None => "disable rotation".to_owned(),
                Some(days) => format!("enable rotation, {days} days"),
            };
            let note = match (&undo.chain_broken, undo.possibly_applied) {
                (Some(why), _) => format!("  (left alone: {why})"),
                (None, true) => {
                    "  (possibly applied: its run stopped before recording the result)".to_owned()
                }
                (None, false) => String::new(),
            };
            writeln!(out, "{}  {restore}{note}", undo.target_arn)
        });
        written
            .and_then(|()| out.flush())
            .map_err(|e| Error::new(ErrorKind::Unavailable, format!("cannot write: {e}")))?;
        note(format_args!(
            "dry run: {} key(s) would be restored if unchanged since; nothing was called or written. Pass --yes to roll back.",
            undos.len()
        ));
        return Ok(Code::Ok);
    }
    if undos.is_empty() {
        note(format_args!("nothing to roll back"));
        return Ok(Code::Ok);
    }
    let mut regions: Vec<String> = undos
        .iter()
        .filter_map(|u| {
            KeyArn::parse(&u.target_arn)
                .ok()
                .map(|a| a.region.to_owned())
        })
        .collect();
    regions.sort_unstable();
    regions.dedup();
    let target = args.connect.target(regions).await?;
    let options = RollbackOptions {
        only_run: args.run_id.clone(),
        writes_per_second: args.writes_per_second,
        verify: Verify {
            attempts: args.verify_attempts,
            delay: Duration::from_millis(args.verify_delay_ms),
        },
        ..RollbackOptions::default()
    };
    let outcome = kms_rotation::remediate::rollback(&entries, target, &options, &journal).await?;
    print_outcome(&outcome)?;
    if let Some(err) = &outcome.journal_error {
        note(format_args!(
            "kms-rotation: error: the journal failed: {err}"
        ));
    }
    if !args.quiet {
        note(format_args!(
            "rollback run {}: {} rolled back, {} left alone, {} failed, {} not attempted",
            outcome.run_id,
            outcome.count(RollbackStatus::RolledBack),
            outcome.count(RollbackStatus::Skipped),
            outcome.count(RollbackStatus::Failed),
            outcome.count(RollbackStatus::NotAttempted)
        ));
    }
    Ok(if outcome.journal_error.is_some() {
        Code::Incomplete
    } else if outcome.is_success() {
        Code::Ok
    } else {
        Code::Findings
    })
}

fn print_outcome(outcome: &RollbackOutcome) -> Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, outcome)
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("cannot write the outcome: {e}"),
            )
        })
}
