//! Where a report goes (`scan`, `convert`): stdout in one format, or files, each in its own
//! format, from one run. The format of a file named without one comes from the core
//! (`Format::for_path`), as it does for the bindings' `write`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;
use kms_rotation::ops::RenderOptions;
use kms_rotation::{Error, Format, Report, Result, Status};

use crate::{output, table};

#[derive(Debug, Args)]
pub struct ReportOutputArgs {
    /// Report format on stdout, and of each --output given without one (default on stdout:
    /// table when it is a terminal, else json).
    #[arg(long, value_enum)]
    format: Option<FormatArg>,

    /// Show only findings with these statuses (comma-separated or repeated): every key is still
    /// evaluated, and the summary and exit code still count them all. Not with json, which is
    /// always the whole report.
    #[arg(long, value_name = "STATUS", value_delimiter = ',', value_parser = status_arg())]
    status: Vec<Status>,

    /// Write the report to FILE (atomically) instead of stdout. Repeatable, for several
    /// formats from one run: FORMAT=FILE, or FILE whose name ends with the format's extension
    /// (.json, .ndjson, .csv, .md, .html, .sarif, .asff.json, .ocsf.json). `-` is stdout.
    #[arg(long, short, value_name = "[FORMAT=]FILE")]
    output: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// The whole report (what `plan --report` and `convert --report` read).
    Json,
    /// One finding per line, and nothing else.
    Ndjson,
    /// One row per finding under a fixed header, for spreadsheets.
    Csv,
    /// The verdict, the counts and the keys that need attention, for a pull request or a
    /// ticket.
    Markdown,
    /// AWS Security Finding Format: the findings as Security Hub imports them.
    Asff,
    /// SARIF 2.1.0, for code scanning: a result per key that needs attention.
    Sarif,
    /// OCSF Compliance Findings (a JSON array), for Security Lake and SIEMs.
    Ocsf,
    /// One self-contained page: counts, charts, and a table that sorts and filters.
    Html,
    /// For people: a row per finding, grouped by status, then the summary.
    Table,
}

impl FormatArg {
    /// The core's rendering; `None` for the table, which is the CLI's own.
    fn core(self) -> Option<Format> {
        match self {
            FormatArg::Json => Some(Format::Json),
            FormatArg::Ndjson => Some(Format::Ndjson),
            FormatArg::Csv => Some(Format::Csv),
            FormatArg::Markdown => Some(Format::Markdown),
            FormatArg::Asff => Some(Format::Asff),
            FormatArg::Sarif => Some(Format::Sarif),
            FormatArg::Ocsf => Some(Format::Ocsf),
            FormatArg::Html => Some(Format::Html),
            FormatArg::Table => None,
        }
    }

    /// The flag value of a core format. Every one has one (a test checks it); a format added
    /// to the core without one is an error here, never rendered as another format.
    fn from_core(format: Format) -> Result<FormatArg> {
        use clap::ValueEnum;
        (FormatArg::value_variants().iter().copied())
            .find(|arg| arg.core() == Some(format))
            .ok_or_else(|| {
                Error::new(
                    kms_rotation::ErrorKind::Unexpected,
                    format!("the `{}` format has no --format value", format.as_str()),
                )
            })
    }
}

/// The core's status names, and only those.
fn status_arg() -> impl clap::builder::TypedValueParser<Value = Status> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Status::ALL.map(Status::as_str))
        .try_map(|name| serde_json::from_value::<Status>(serde_json::Value::String(name)))
}

/// One rendering of the report: a format and where it goes (`None`: stdout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    pub format: FormatArg,
    pub file: Option<PathBuf>,
}

impl ReportOutputArgs {
    /// Every rendering asked for, checked before anything is read or written: each format
    /// known, no file (or stdout) written twice, no status filter on a json report.
    pub fn destinations(&self) -> Result<Vec<Destination>> {
        let destinations = if self.output.is_empty() {
            vec![Destination {
                format: self.stdout_format(),
                file: None,
            }]
        } else {
            (self.output.iter())
                .map(|spec| self.destination(spec))
                .collect::<Result<Vec<_>>>()?
        };
        for (i, d) in destinations.iter().enumerate() {
            let place = d.file.as_deref().map(place);
            if destinations[..i]
                .iter()
                .any(|other| other.file.as_deref().map(self::place) == place)
            {
                let shown = d
                    .file
                    .as_deref()
                    .map_or("stdout".into(), Path::to_string_lossy);
                return Err(Error::invalid_input(format!(
                    "{shown} is given twice: one report per destination"
                ))
                .with_field("--output"));
            }
            if d.format == FormatArg::Json && !self.status.is_empty() {
                return Err(Error::invalid_input(
                    "a json report is always whole (`plan --report` reads it): filter another \
                     format (table, ndjson, csv, markdown...)",
                )
                .with_field("--status"));
            }
        }
        Ok(destinations)
    }

    /// `--format`, else a table for a person at a terminal and json for a program.
    fn stdout_format(&self) -> FormatArg {
        self.format.unwrap_or(if std::io::stdout().is_terminal() {
            FormatArg::Table
        } else {
            FormatArg::Json
        })
    }

    /// `FORMAT=FILE`, or `FILE` in `--format` or the format its name ends with. A prefix
    /// before `=` that names no format and no directory (`md=x.md`) is a mistyped format, not
    /// a file name: refused rather than written to a file called `md=x.md`.
    fn destination(&self, spec: &str) -> Result<Destination> {
        use clap::ValueEnum;
        let named = match spec.split_once('=') {
            Some((name, file)) if !name.contains(['/', '\\']) => {
                let format = FormatArg::from_str(name, true).map_err(|_| {
                    let known: Vec<String> = (FormatArg::value_variants().iter())
                        .filter_map(|f| f.to_possible_value())
                        .map(|v| v.get_name().to_owned())
                        .collect();
                    Error::invalid_input(format!(
                        "`{name}` is not a report format ({}); a file whose name has `=` is \
                         written as ./{spec}",
                        known.join(", ")
                    ))
                    .with_field("--output")
                })?;
                Some((format, file))
            }
            _ => None,
        };
        let (format, file) = match named {
            Some((format, file)) => (format, file),
            None if spec == "-" => (self.stdout_format(), spec),
            None => {
                let format = match self.format {
                    Some(format) => format,
                    None => FormatArg::from_core(
                        Format::for_path_or_error(Path::new(spec))
                            .map_err(|e| e.with_field("--output"))?,
                    )?,
                };
                (format, spec)
            }
        };
        if file.is_empty() {
            return Err(
                Error::invalid_input(format!("`{spec}` names no file")).with_field("--output")
            );
        }
        let file = (file != "-").then(|| PathBuf::from(file));
        Ok(Destination { format, file })
    }

    /// Refuses `path` (written by `flag`) when a report also goes there.
    pub fn refuse_overlap(destinations: &[Destination], path: &Path, flag: &str) -> Result<()> {
        if destinations
            .iter()
            .any(|d| d.file.as_deref().map(place) == Some(place(path)))
        {
            return Err(Error::invalid_input(format!(
                "{} is both a report output and {flag}: give each its own file",
                path.display()
            ))
            .with_field(flag.to_owned()));
        }
        Ok(())
    }

    /// True when a table goes to stdout: it ends with the summary, so none is printed apart.
    pub fn table_on_stdout(destinations: &[Destination]) -> bool {
        destinations
            .iter()
            .any(|d| d.format == FormatArg::Table && d.file.is_none())
    }

    /// Writes `report` to every destination; the findings shown are filtered by `--status`.
    pub fn write(&self, mut report: Report, destinations: &[Destination]) -> Result<()> {
        // Tables first: they filter as they draw, and count what they leave out, so they take
        // the whole report.
        for d in destinations.iter().filter(|d| d.format.core().is_none()) {
            let look = output::look(d.file.is_none());
            let mut text = Vec::new();
            table::write(&report, &self.status, look, &mut text)?;
            output::write_text(&text, d.file.as_deref())?;
        }
        if !self.status.is_empty() {
            report.findings.retain(|f| self.status.contains(&f.status));
        }
        let rendered: Vec<(Format, Option<&Path>)> = destinations
            .iter()
            .filter_map(|d| Some((d.format.core()?, d.file.as_deref())))
            .collect();
        let mut report = Some(report);
        for (i, (format, file)) in rendered.iter().enumerate() {
            // The core renders an owned report: only the last rendering gets it without a copy.
            let report = if i + 1 == rendered.len() {
                report.take()
            } else {
                report.clone()
            };
            let render = RenderOptions {
                report,
                format: Some(format.as_str().to_owned()),
                ..RenderOptions::default()
            };
            output::write(render, *file)?;
        }
        Ok(())
    }
}

/// Where a file name points, for telling two spellings of one file apart (`a.json`, `./a.json`,
/// `d/../a.json`, a symbolic link to the directory): its directory resolved, then its name.
/// A directory that does not exist stays as given (the write will fail there anyway).
fn place(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    match path.file_name() {
        Some(name) => dir.join(name),
        None => dir,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CLI lists its formats itself (with their help): each of the core's must be there,
    /// under its own name.
    #[test]
    fn every_core_format_has_a_cli_value_of_the_same_name() {
        use clap::ValueEnum;
        for format in Format::ALL {
            let arg = FormatArg::from_core(format).unwrap();
            let value = arg.to_possible_value().unwrap();
            assert_eq!(value.get_name(), format.as_str());
        }
    }
}
