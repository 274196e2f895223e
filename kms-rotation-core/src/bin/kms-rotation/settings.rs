//! Where each flag's value comes from, first match wins: the command line, its environment
//! variable, the config file, its default. Every flag `--some-flag` has the variable
//! `KMS_ROTATION_SOME_FLAG` (a repeatable flag's values separated by commas) and the config key
//! `some-flag` (see `config`), derived here from the flag's name so that none is forgotten.
//! `--yes` is the exception: a write is asked for on the command line, never by a file or an
//! environment left behind.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command, CommandFactory, FromArgMatches};

use crate::Cli;
use crate::config::{self, Config};

/// The config file read when `--config` is not given, if it exists in the working directory.
pub const DEFAULT_CONFIG: &str = "kms-rotation.yaml";

const ENV_PREFIX: &str = "KMS_ROTATION_";

/// Why the command line was not accepted.
#[derive(Debug)]
pub enum Refused {
    /// clap's own error (or `--help` / `--version`): clap prints it and exits.
    Usage(clap::Error),
    /// The config file.
    Config(kms_rotation::Error),
}

/// The command line of this process, with the environment and the config file.
pub fn parse() -> Result<(Cli, Option<PathBuf>), Refused> {
    parse_from(std::env::args_os().collect())
}

/// `argv` (program name first), with this process's environment and the config file. Returns
/// the config file read, if any.
pub fn parse_from(argv: Vec<OsString>) -> Result<(Cli, Option<PathBuf>), Refused> {
    let command = with_env_names(Cli::command());
    let file = config::locate(named_config(&command, &argv));
    let mut command = match &file {
        Some(path) => Config::read(path, &command)
            .map_err(Refused::Config)?
            .apply(command),
        None => command,
    };
    let matches = command
        .try_get_matches_from_mut(argv)
        .map_err(Refused::Usage)?;
    let cli =
        Cli::from_arg_matches(&matches).map_err(|e| Refused::Usage(e.format(&mut command)))?;
    Ok((cli, file))
}

/// The `--config` given on the command line or in `KMS_ROTATION_CONFIG`, read before the rest:
/// the file decides the other flags' defaults. Errors are left for the real parse to report.
fn named_config(command: &Command, argv: &[OsString]) -> Option<PathBuf> {
    let matches = command
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(argv)
        .ok()?;
    matches.get_one::<PathBuf>("config").cloned()
}

/// Whether `arg` may be set other than on the command line: every flag but `--yes` (and
/// `--help`, `--version`).
pub fn from_elsewhere(arg: &Arg) -> bool {
    arg.get_long().is_some() && !matches!(arg.get_id().as_str(), "yes" | "help" | "version")
}

/// `command` with every flag's environment variable, in every subcommand.
fn with_env_names(command: Command) -> Command {
    command
        .mut_args(with_env_name)
        .mut_subcommands(with_env_names)
}

fn with_env_name(arg: Arg) -> Arg {
    if !from_elsewhere(&arg) {
        return arg;
    }
    let name = env_name(arg.get_long().unwrap_or_default());
    let arg = arg.env(name);
    match arg.get_action() {
        ArgAction::Append => arg.value_delimiter(','),
        _ => arg,
    }
}

/// `--read-concurrency` -> `KMS_ROTATION_READ_CONCURRENCY`.
pub fn env_name(long: &str) -> String {
    format!("{ENV_PREFIX}{}", long.to_uppercase().replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_names_follow_the_flag_names() {
        assert_eq!(
            env_name("read-concurrency"),
            "KMS_ROTATION_READ_CONCURRENCY"
        );
        assert_eq!(env_name("region"), "KMS_ROTATION_REGION");
    }

    /// Every flag of every command has its variable, so none can be forgotten; `--yes` has none.
    #[test]
    fn every_flag_but_yes_has_a_variable() {
        let mut command = with_env_names(Cli::command());
        command.build();
        let mut seen = 0;
        for sub in command.get_subcommands() {
            for arg in sub.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
                match long {
                    "yes" | "help" | "version" => assert_eq!(env, None, "--{long}"),
                    _ => {
                        assert_eq!(env, Some(env_name(long)), "--{long}");
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen > 40, "{seen} flags");
    }
}
