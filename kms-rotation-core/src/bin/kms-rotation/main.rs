//! `kms-rotation`: the command-line face of the library. It owns stdout (reports only) and
//! stderr (messages); its exit code is a CI gate (see `exit`).

mod allocator;
mod apply;
mod baseline;
mod colour;
mod completions;
mod config;
mod connection;
mod convert;
mod diff;
mod event;
mod exceptions;
mod exit;
mod explain;
mod iam_policy;
mod logging;
mod merge;
mod options;
mod outcome;
mod output;
mod plan;
mod progress;
mod report_output;
mod rollback;
mod scan;
mod security_hub;
mod settings;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};

/// Checks and fixes automatic rotation of customer-managed symmetric AWS KMS keys (CIS AWS
/// Foundations, Security Hub KMS.4): scan, plan, apply with a journal, roll back.
#[derive(Debug, Parser)]
#[command(name = "kms-rotation", version, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,

    /// More diagnostics on stderr: -v info, -vv debug, -vvv trace (default: warnings, or
    /// RUST_LOG when set). Secrets are never logged at any level.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    verbose: u8,

    /// How diagnostics are written on stderr: text, or one JSON object per line.
    #[arg(long, value_enum, global = true, default_value_t = logging::LogFormat::Text)]
    log_format: logging::LogFormat,

    /// Colour the table and the progress bars: auto (a terminal, unless NO_COLOR is set),
    /// always or never.
    #[arg(long, value_enum, global = true, default_value_t = colour::ColorChoice::Auto)]
    color: colour::ColorChoice,

    /// Read flags from this YAML file (default: kms-rotation.yaml in the working directory,
    /// if there is one). Typed flags win, then KMS_ROTATION_* variables, then the file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read keys from a source, evaluate them against the policy, and write a report.
    Scan(Box<scan::ScanArgs>),
    /// Render a saved report (`scan --format json`) in other formats, without scanning again.
    Convert(convert::ConvertArgs),
    /// Merge the reports of a scan split over several jobs (by account or region) into one;
    /// refuses overlapping parts and parts under different policies.
    Merge(merge::MergeArgs),
    /// Plan the remediation of a report: ordered, batched actions and the reasons for skips.
    Plan(Box<plan::PlanArgs>),
    /// Apply a plan, verifying and journaling each change (a dry run without --yes).
    Apply(apply::ApplyArgs),
    /// Undo what a journal says was changed (a dry run without --yes).
    Rollback(rollback::RollbackArgs),
    /// Review a report's exceptions: expired (still matching keys), unused, unknown, expiring
    /// within --within-days, active; exit 1 when an expired one still matches a failing key.
    Exceptions(Box<exceptions::ExceptionsArgs>),
    /// Compare two saved reports: keys fixed, regressed, lapsed out of an exception, newly
    /// failing, gone; exit 1 when anything got worse.
    Diff(diff::DiffArgs),
    /// Explain a finding's reason code: what it means, why it matters, how to fix the key.
    Explain(explain::ExplainArgs),
    /// Print the least-privilege IAM policy for scanning or for fixing keys.
    IamPolicy(iam_policy::IamPolicyArgs),
    /// Print the organisation baseline from the policy: a CloudFormation template (AWS Config
    /// rule, remediation, EventBridge rule), a conformance pack, or a Terraform key.
    Baseline(baseline::BaselineArgs),
    /// Re-check the keys a KMS CloudTrail event touches (as EventBridge delivers it), and with
    /// --remediate fix them (a dry run without --yes); other events are ignored.
    Event(Box<event::EventArgs>),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
    /// Print a man page (roff): kms-rotation's, or a subcommand's.
    Man(completions::ManArgs),
}

fn main() -> ExitCode {
    allocator::return_freed_memory_soon();
    let (cli, config_file) = match settings::parse() {
        Ok(parsed) => parsed,
        // clap prints usage errors itself and exits 2, as the exit-code contract wants.
        Err(settings::Refused::Usage(err)) => err.exit(),
        Err(settings::Refused::Config(err)) => {
            eprintln!("kms-rotation: error: {err}");
            return exit::Code::for_error(&err).into();
        }
    };
    logging::init(cli.verbose, cli.log_format);
    colour::init(cli.color);
    if let Some(file) = config_file {
        tracing::info!(file = %file.display(), "flags read from the config file");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("kms-rotation: cannot start the async runtime: {err}");
            return exit::Code::Incomplete.into();
        }
    };
    let subcommand = cli.command.name();
    let result = runtime.block_on(async {
        match cli.command {
            Command::Scan(args) => scan::run(*args).await,
            Command::Convert(args) => convert::run(args).await,
            Command::Merge(args) => merge::run(args).await,
            Command::Diff(args) => diff::run(args),
            Command::Plan(args) => plan::run(*args).await,
            Command::Apply(args) => apply::run(args).await,
            Command::Rollback(args) => rollback::run(args).await,
            Command::Exceptions(args) => exceptions::run(*args).await,
            Command::Explain(args) => explain::run(args),
            Command::IamPolicy(args) => iam_policy::run(args),
            Command::Baseline(args) => baseline::run(args),
            Command::Event(args) => event::run(*args).await,
            Command::Completions(args) => completions::completions(args),
            Command::Man(args) => completions::man(args),
        }
    });
    match result {
        Ok(code) => code.into(),
        Err(err) => {
            let err = options::name_the_flag(err, subcommand);
            eprintln!("kms-rotation: error: {err}");
            exit::Code::for_error(&err).into()
        }
    }
}

impl Command {
    /// The subcommand's name, as typed.
    fn name(&self) -> &'static str {
        match self {
            Command::Scan(_) => "scan",
            Command::Convert(_) => "convert",
            Command::Merge(_) => "merge",
            Command::Diff(_) => "diff",
            Command::Plan(_) => "plan",
            Command::Apply(_) => "apply",
            Command::Rollback(_) => "rollback",
            Command::Exceptions(_) => "exceptions",
            Command::Explain(_) => "explain",
            Command::IamPolicy(_) => "iam-policy",
            Command::Baseline(_) => "baseline",
            Command::Event(_) => "event",
            Command::Completions(_) => "completions",
            Command::Man(_) => "man",
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// `--help` is the reference people read first: every option of every subcommand says what
    /// it does, in words for people (no Rust type of the code behind it).
    #[test]
    fn every_option_has_help_in_words_for_people() {
        let cli = Cli::command();
        cli.clone().debug_assert();
        for command in std::iter::once(&cli).chain(cli.get_subcommands()) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                let long = arg
                    .get_long_help()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                assert!(
                    !help.trim().is_empty(),
                    "`{} --{id}` has no help text",
                    command.get_name()
                );
                for text in [help, long] {
                    assert!(
                        !text.contains("Args`") && !text.contains("Args,"),
                        "`{} --{id}` names code: {text}",
                        command.get_name()
                    );
                }
            }
        }
    }
}
