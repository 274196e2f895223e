//! `kms-rotation apply`: run a plan against AWS, journaling every step. Without `--yes` it is a
//! dry run: it prints what it would do and calls nothing, writes nothing. With it, each target is
//! described and refused unless in scope, each write's intent is journaled before it is sent,
//! and the journal is locked for the whole run.

use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use kms_rotation::remediate::{
    ActionStatus, ApplyOptions, ApplyOutcome, Journal, Plan, PlanFormat, Verify,
};
use kms_rotation::{Error, ErrorKind, Result};

use crate::connection::ConnectionArgs;
use crate::exit::Code;
use crate::plan::note;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file (`kms-rotation plan --format json`). Checked completely before anything
    /// else happens.
    #[arg(long, value_name = "FILE")]
    plan: PathBuf,

    /// Append every step here (NDJSON): what `rollback` reads.
    #[arg(long, value_name = "FILE")]
    journal: PathBuf,

    /// Really change keys. Without it: a dry run that prints the plan and calls nothing.
    #[arg(long)]
    yes: bool,

    #[command(flatten)]
    connect: ConnectionArgs,

    /// Write calls per second per account and region (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 10)]
    writes_per_second: u32,

    /// Keys changed at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    concurrency: usize,

    /// Stop after this many failures in a row (0: never).
    #[arg(long, value_name = "N", default_value_t = 5)]
    max_consecutive_failures: usize,

    /// Reads after each write until the change shows.
    #[arg(long, value_name = "N", default_value_t = 10)]
    verify_attempts: u32,

    /// Pause between those reads, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    verify_delay_ms: u64,

    /// Do not print the summary on stderr.
    #[arg(long, short)]
    quiet: bool,
}

pub async fn run(args: ApplyArgs) -> Result<Code> {
    let plan = Plan::from_file(&args.plan)?;
    let options = ApplyOptions {
        writes_per_second: args.writes_per_second,
        concurrency: args.concurrency,
        max_consecutive_failures: args.max_consecutive_failures,
        verify: Verify {
            attempts: args.verify_attempts,
            delay: Duration::from_millis(args.verify_delay_ms),
        },
        dry_run: !args.yes,
        run_id: None,
        progress: None,
    };
    options.validate()?;
    if !args.yes {
        // The contract: no write call, no file written. Reading AWS is not needed to say what
        // the plan would do, so the dry run works offline too.
        let mut out = BufWriter::new(std::io::stdout().lock());
        plan.render(PlanFormat::Table, &mut out)?;
        note(format_args!(
            "dry run: {} key(s) would be changed; nothing was called or written. Pass --yes to apply (journal: {}).",
            plan.actions.len(),
            args.journal.display()
        ));
        return Ok(Code::Ok);
    }
    let mut regions: Vec<String> = plan.actions.iter().map(|a| a.region.clone()).collect();
    regions.sort_unstable();
    regions.dedup();
    if regions.is_empty() {
        note(format_args!("the plan has no actions: nothing to do"));
        return Ok(Code::Ok);
    }
    // Locked before anything else: a second run on this journal stops here, before any call.
    let journal = Journal::open(&args.journal)?;
    let target = args.connect.target(regions).await?;
    let outcome = kms_rotation::remediate::apply(&plan, target, &options, &journal).await?;
    print_outcome(&outcome)?;
    // Warnings and journal failures are printed even with --quiet: they are not a summary.
    for warning in &outcome.journal_warnings {
        note(format_args!("kms-rotation: warning: {warning}"));
    }
    if let Some(err) = &outcome.journal_error {
        note(format_args!(
            "kms-rotation: error: the journal failed: {err}"
        ));
    }
    if !args.quiet {
        summarize(&outcome);
    }
    Ok(if outcome.journal_error.is_some() {
        Code::Incomplete
    } else if outcome.is_success() {
        Code::Ok
    } else {
        Code::Findings
    })
}

fn print_outcome(outcome: &ApplyOutcome) -> Result<()> {
    use std::io::Write;
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

fn summarize(outcome: &ApplyOutcome) {
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
