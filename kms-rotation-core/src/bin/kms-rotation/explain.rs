//! `kms-rotation explain [REASON]`: what a finding's reason code means, why it matters and how
//! to fix the key, from the core's explanations; without a code, the list of codes.

use clap::{Args, ValueEnum};
use kms_rotation::explain::Explanation;
use kms_rotation::ops::{self, ExplainOptions};
use kms_rotation::{Error, ErrorKind, Result};
use serde::Serialize;

use crate::completions::write_stdout;
use crate::exit::Code;
use crate::options::from_flags;

/// Text is wrapped to this width, indent included.
const WIDTH: usize = 96;

#[derive(Debug, Args, Serialize)]
pub struct ExplainArgs {
    /// A finding's reason code, e.g. rotation_disabled. Without one: every code, one a line.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    #[serde(skip)]
    format: ExplainFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Text,
    Json,
}

pub fn run(args: ExplainArgs) -> Result<Code> {
    let options: ExplainOptions = from_flags(&args, |_| {})?;
    let one = options.reason.is_some();
    let explanations = ops::explain(options)?;
    let text = match (args.format, one) {
        (ExplainFormat::Json, true) => json(&explanations[0])?,
        (ExplainFormat::Json, false) => json(&explanations)?,
        (ExplainFormat::Text, true) => explanations.iter().map(page).collect(),
        (ExplainFormat::Text, false) => list(&explanations),
    };
    write_stdout(text.as_bytes())?;
    Ok(Code::Ok)
}

fn json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|json| json + "\n")
        .map_err(|e| Error::new(ErrorKind::Unexpected, format!("cannot print JSON: {e}")))
}

/// One line per code: the code, its statuses, and the first sentence of its meaning.
fn list(explanations: &[Explanation]) -> String {
    let code_width = explanations
        .iter()
        .map(|e| e.reason.as_str().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for e in explanations {
        let statuses = statuses(e);
        let first = e.meaning.split_inclusive(". ").next().unwrap_or(e.meaning);
        out += &format!(
            "{:code_width$}  {statuses:15}  {}\n",
            e.reason.as_str(),
            first.trim_end()
        );
    }
    out += "\nkms-rotation explain REASON says why it matters and how to fix it.\n";
    out
}

/// The whole explanation of one code.
fn page(e: &Explanation) -> String {
    let mut out = format!("{} ({})\n", e.reason.as_str(), statuses(e));
    out += &section("What it means", &wrap(e.meaning, "  "));
    out += &section("Why it matters", &wrap(e.why, "  "));
    let steps: String = e
        .fix_console
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let text = wrap(step, "     ");
            // The first line's indent holds the step's number.
            format!("  {:<3}{}", format!("{}.", i + 1), &text[5..])
        })
        .collect();
    out += &section("How to fix it in the AWS console", &steps);
    // Commands stay on one line each, so that they can be copied whole.
    let commands: String = e.fix_cli.iter().map(|c| format!("  {c}\n")).collect();
    out += &section(
        "How to fix it with the aws CLI (KEY_ARN and REGION from the finding)",
        &commands,
    );
    out
}

fn section(title: &str, body: &str) -> String {
    format!("\n{title}\n{body}")
}

fn statuses(e: &Explanation) -> String {
    e.statuses
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// `text` wrapped at [`WIDTH`], each line starting with `indent`.
fn wrap(text: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.len() + 1 + word.len() > WIDTH {
            out += line.trim_end();
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line += word;
    }
    out += &line;
    out.push('\n');
    out
}
