//! `diff`: the progress between two reports, an old and a new one.

use std::path::PathBuf;

use serde::Deserialize;

use super::scan::under;
use crate::diff::{self, ReportDiff};
use crate::{Error, Report, Result};

/// Options of [`diff`]: exactly one of `old` and `old_file`, and one of `new` and `new_file`.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DiffOptions {
    /// The older report. Rechecked: every verdict is recomputed from its evidence, and an
    /// edited one is refused.
    pub old: Option<Report>,
    /// The older report as a saved JSON file (`scan --format json`), rechecked the same way.
    #[serde(alias = "oldFile")]
    pub old_file: Option<PathBuf>,
    /// The newer report, rechecked as `old` is.
    pub new: Option<Report>,
    /// The newer report as a saved JSON file, rechecked the same way.
    #[serde(alias = "newFile")]
    pub new_file: Option<PathBuf>,
}

/// The progress from the old report to the new one (see [`diff::compare`]). Refused: a missing
/// or doubly given report, an edited one, and an old report generated after the new one.
pub fn diff(options: DiffOptions) -> Result<ReportDiff> {
    let old_file = options.old_file.clone();
    let old = report("old", options.old, options.old_file)?;
    let new = report("new", options.new, options.new_file)?;
    if old.generated_at > new.generated_at {
        let err = Error::invalid_input(format!(
            "the old report was generated at {}, after the new one ({}): give the older \
             report first",
            old.generated_at.to_rfc3339(),
            new.generated_at.to_rfc3339()
        ))
        .with_field("old.generated_at");
        return Err(match old_file {
            Some(path) => err.with_file(path),
            None => err,
        });
    }
    Ok(diff::compare(&old, &new))
}

/// The report `name` names: given (rechecked) or read from a file (rechecked).
fn report(name: &str, given: Option<Report>, file: Option<PathBuf>) -> Result<Report> {
    match (given, file) {
        (Some(report), None) => report.rechecked().map_err(|e| under(name, e)),
        (None, Some(path)) => Report::from_file(path),
        (None, None) => Err(Error::invalid_input(format!(
            "give the {name} report, or its file ({name}_file)"
        ))
        .with_field(name)),
        (Some(_), Some(_)) => Err(Error::invalid_input(format!(
            "give one of the {name} report and its file, not both"
        ))
        .with_field(name)),
    }
}
