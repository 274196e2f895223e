//! `kms-rotation completions SHELL` and `kms-rotation man`: generated from the same clap
//! definitions as the parser, so they always name the flags it takes.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use kms_rotation::{Error, ErrorKind, Result};

use crate::exit::Code;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for. Bash: `source <(kms-rotation completions bash)`; zsh: save
    /// as `_kms-rotation` in a directory of $fpath; fish: save in
    /// ~/.config/fish/completions/kms-rotation.fish; PowerShell: add
    /// `kms-rotation completions powershell | Out-String | Invoke-Expression` to $PROFILE.
    #[arg(value_enum)]
    shell: Shell,
}

pub fn completions(args: CompletionsArgs) -> Result<Code> {
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut crate::Cli::command(),
        "kms-rotation",
        &mut script,
    );
    write_stdout(&script)?;
    Ok(Code::Ok)
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (kms-rotation-scan(1), say); none: kms-rotation(1).
    subcommand: Option<String>,
}

/// A man page, in roff: `kms-rotation man > kms-rotation.1`, or `kms-rotation man scan | man -l -`.
pub fn man(args: ManArgs) -> Result<Code> {
    let mut command = crate::Cli::command();
    // Building names each subcommand as its page does (`kms-rotation-scan`).
    command.build();
    let command = match &args.subcommand {
        None => command,
        Some(name) => command.find_subcommand(name).cloned().ok_or_else(|| {
            let names: Vec<&str> = command.get_subcommands().map(|s| s.get_name()).collect();
            Error::invalid_input(format!(
                "`{name}` is not a subcommand; expected one of: {}",
                names.join(", ")
            ))
        })?,
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .source(format!("kms-rotation {}", env!("CARGO_PKG_VERSION")))
        .render(&mut page)
        .map_err(|e| {
            Error::new(
                ErrorKind::Unexpected,
                format!("cannot render the man page: {e}"),
            )
        })?;
    write_stdout(&page)?;
    Ok(Code::Ok)
}

/// Writes `bytes` to stdout: a closed pipe is an error, not a panic.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("cannot write to stdout: {e}"),
            )
        })
}
