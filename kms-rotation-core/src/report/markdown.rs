//! The Markdown rendering, for a pull request or a ticket: the verdict and the counts, then
//! only the keys that need someone (`fail`, `error`). Written finding by finding.

use std::io::Write;

use crate::finding::{Finding, Status};
use crate::report::{Report, verdict};

/// Writes the report as Markdown.
pub(super) fn write(report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    let summary = &report.summary;
    writeln!(out, "# KMS key rotation: {}", verdict(report))?;
    writeln!(out)?;
    writeln!(
        out,
        "Evaluated at {} from `{}` source: {} keys in {} accounts and {} regions.",
        report
            .generated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        escaped(&report.scope.source),
        summary.by_status.total,
        summary.by_account.len(),
        summary.by_region.len(),
    )?;
    writeln!(out)?;
    if !report.scope_errors.is_empty() {
        writeln!(
            out,
            "**INCOMPLETE**: {} regions or accounts could not be listed, so their keys are not \
             in this report:",
            report.scope_errors.len()
        )?;
        writeln!(out)?;
        writeln!(out, "| account | region | operation | code |")?;
        writeln!(out, "|---|---|---|---|")?;
        for e in &report.scope_errors {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                escaped(e.account_id.as_deref().unwrap_or("any")),
                escaped(e.region.as_deref().unwrap_or("any")),
                escaped(&e.operation),
                escaped(&e.code),
            )?;
        }
        writeln!(out)?;
    }
    if summary.by_status.error > 0 {
        writeln!(
            out,
            "**{} keys could not be read** (`error`): they are neither passing nor failing until \
             a scan reads them.",
            summary.by_status.error
        )?;
        writeln!(out)?;
    }
    writeln!(out, "| status | keys |")?;
    writeln!(out, "|---|---:|")?;
    for status in Status::ALL {
        writeln!(out, "| {status} | {} |", summary.by_status.get(status))?;
    }
    writeln!(out, "| **total** | **{}** |", summary.by_status.total)?;
    writeln!(out)?;
    write_attention(&report.findings, out)
}

/// The table of `fail` and `error` findings, or a line saying there are none.
fn write_attention(findings: &[Finding], out: &mut dyn Write) -> std::io::Result<()> {
    let mut attention = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error))
        .peekable();
    writeln!(out, "## Keys that need attention")?;
    writeln!(out)?;
    if attention.peek().is_none() {
        writeln!(out, "None: no key fails and every key was read.")?;
        return Ok(());
    }
    writeln!(
        out,
        "| severity | status | key | alias | region | account | reason | message |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for f in attention {
        let aliases = match &f.aliases {
            None => "_not read_".to_owned(),
            Some(aliases) if aliases.is_empty() => String::new(),
            Some(aliases) => escaped(&aliases.join(", ")),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | `{}` | {} |",
            f.severity,
            f.status,
            escaped(&f.key_id),
            aliases,
            escaped(&f.region),
            escaped(&f.account_id),
            f.reason,
            escaped(&f.message),
        )?;
    }
    Ok(())
}

/// Text as one table cell: every ASCII punctuation mark that Markdown or HTML could read
/// (`|` ends a cell, `<` opens a tag, `*` and `_` emphasise...) backslash-escaped, and line
/// breaks, which would end the row, made spaces.
pub(crate) fn escaped(text: &str) -> String {
    let mut cell = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' => cell.push(' '),
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '&' | '~' => {
                cell.push('\\');
                cell.push(c);
            }
            _ => cell.push(c),
        }
    }
    cell
}
