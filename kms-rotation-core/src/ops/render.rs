//! `render`: a report or a plan in one of its formats.

use std::io::Write;
use std::path::PathBuf;

use serde::Deserialize;

use super::scan::under;
use crate::remediate::{Plan, PlanFormat};
use crate::{Error, Format, Report, Result};

/// Options of [`render`]: one of `report` and `plan`, and a format.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RenderOptions {
    /// A report: formats `json` (the default), `ndjson`, `csv`, `markdown`, `asff`, `sarif`,
    /// `ocsf` and `html`.
    pub report: Option<Report>,
    /// A plan: formats `json` (the default; what apply reads), `table` and `script`.
    pub plan: Option<Plan>,
    /// The format's name. Default: for a report written to `output`, the format its file name
    /// ends with (`.csv`, `.md`, `.asff.json`...; see `Format::suffixes`); else `json`.
    pub format: Option<String>,
    /// Write here (atomically: a reader never sees half a file) instead of returning the text.
    pub output: Option<PathBuf>,
}

/// Renders the report or plan of `options`. Returns the text, or, with `output`, writes the
/// file and returns an empty string.
pub fn render(options: RenderOptions) -> Result<String> {
    if let Some(path) = &options.output {
        super::files::write_atomically(path, |out| render_to(&options, out))?;
        return Ok(String::new());
    }
    let mut text = Vec::new();
    render_to(&options, &mut text)?;
    String::from_utf8(text).map_err(|e| Error::new(crate::ErrorKind::Unexpected, e.to_string()))
}

/// Renders the report or plan of `options` to `out` (`output` only names the default format).
pub fn render_to(options: &RenderOptions, out: &mut dyn Write) -> Result<()> {
    let named = options.format.as_deref();
    match (&options.report, &options.plan) {
        (Some(report), None) => {
            let format = match (named, &options.output) {
                (Some(name), _) => name.parse().map_err(|e: Error| e.with_field("format"))?,
                (None, Some(path)) => Format::for_path_or_error(path)?,
                (None, None) => Format::Json,
            };
            report.render(format, out)
        }
        (None, Some(plan)) => {
            let format: PlanFormat =
                (named.unwrap_or("json").parse()).map_err(|e: Error| e.with_field("format"))?;
            plan.validate().map_err(|e| under("plan", e))?;
            plan.render(format, out)
        }
        _ => Err(Error::invalid_input("give one of a report and a plan").with_field("report")),
    }
}
