//! Diagnostics on stderr (stdout carries only reports): warnings by default, more with `-v`,
//! or what `RUST_LOG` asks for when no `-v` is given; as text, or one JSON object per line with
//! `--log-format json`. Lines are written above a progress bar, never through it.
//!
//! Whatever is asked for, other crates log at most at `debug`, and the SDK modules whose `debug`
//! events print the credentials in use at most at `info`; only this crate goes down to `trace`.
//! Why ceilings: at `trace` the AWS SDK prints every request and response, the resolved identity
//! (access key id included) and, when `LOG_SENSITIVE_BODIES=true` is in the environment, the
//! bodies it otherwise redacts: STS AssumeRole's response with the temporary secret key and
//! session token. The SDK does redact what it knows to be secret (the `Authorization` and
//! `X-Amz-Security-Token` headers, sensitive bodies, `Credentials`' secret key), but that is its
//! choice in each version and under each environment variable; the ceilings make it ours.
//! `tests/cli_secrets.rs` runs every command at `-vvv`, and under `RUST_LOG=trace` with the SDK's
//! body logging switched on, and finds no credential and no external id.

use std::io::Write;

use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The most any other crate may log.
const DEPENDENCY_CEILING: LevelFilter = LevelFilter::DEBUG;

/// SDK modules whose `debug` events print the credentials in use (their `Debug` shows the
/// access key id): endpoint resolution logs its parameters, identity included, on every call;
/// the assume-role provider logs the temporary key id it obtained.
const PRINTS_KEY_IDS_AT_DEBUG: &[&str] = &[
    "aws_smithy_runtime::client::orchestrator::endpoints",
    "aws_config::sts",
];

/// The level `-v` given `count` times asks for; `None` without `-v`.
fn level(count: u8) -> Option<LevelFilter> {
    match count {
        0 => None,
        1 => Some(LevelFilter::INFO),
        2 => Some(LevelFilter::DEBUG),
        _ => Some(LevelFilter::TRACE),
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per event.
    #[default]
    Text,
    /// One JSON object per event and line, for log collectors.
    Json,
}

/// Installs the stderr subscriber. Called once, before anything logs.
pub fn init(verbosity: u8, format: LogFormat) {
    let filter = match level(verbosity) {
        Some(level) => EnvFilter::default().add_directive(level.into()),
        None => from_rust_log(),
    };
    // The library and this binary are both the crate `kms_rotation`. Targets match by prefix,
    // the longest winning.
    let ceiling = Targets::new()
        .with_default(DEPENDENCY_CEILING)
        .with_targets(
            PRINTS_KEY_IDS_AT_DEBUG
                .iter()
                .map(|target| (*target, LevelFilter::INFO)),
        )
        .with_target("kms_rotation", LevelFilter::TRACE);
    let lines = tracing_subscriber::fmt::layer().with_writer(|| Stderr);
    let lines = match format {
        LogFormat::Text => lines.boxed(),
        LogFormat::Json => lines.json().boxed(),
    };
    // Both filters must let an event through: the ceiling cannot be lifted by RUST_LOG.
    let installed = tracing_subscriber::registry()
        .with(ceiling)
        .with(filter)
        .with(lines)
        .try_init();
    if let Err(err) = installed {
        eprintln!("kms-rotation: no diagnostics: {err}");
    }
}

/// stderr, with the progress bar lifted while a line is written (the formatter writes each
/// event with one `write_all`).
struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        crate::progress::suspend(|| std::io::stderr().write_all(buf)).map(|()| buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// `RUST_LOG` when it is set and valid, else warnings only.
fn from_rust_log() -> EnvFilter {
    let warnings = || EnvFilter::default().add_directive(LevelFilter::WARN.into());
    match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(&directives)
            .unwrap_or_else(|err| {
                eprintln!("kms-rotation: ignoring RUST_LOG ({err}): warnings only");
                warnings()
            }),
        _ => warnings(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_v_is_one_level_more() {
        assert_eq!(level(0), None);
        assert_eq!(level(1), Some(LevelFilter::INFO));
        assert_eq!(level(2), Some(LevelFilter::DEBUG));
        assert_eq!(level(3), Some(LevelFilter::TRACE));
        assert_eq!(level(9), Some(LevelFilter::TRACE));
    }
}
