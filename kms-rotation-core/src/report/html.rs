//! The HTML rendering: one self-contained page for people. The verdict and the counts, what
//! could not be listed, charts of the statuses per region and per account, then every finding
//! in a table that sorts and filters, with the fix command beside each failing key.
//!
//! Self-contained means the page fetches nothing: the style, the script and the charts (SVG
//! drawn here) are inline, and its Content-Security-Policy allows those two inline blocks, by
//! hash, and nothing else, so even text that escaped escaping could load nothing. Every value
//! is escaped: ARNs, aliases and messages come from AWS and from files a user may have edited.
//!
//! Written finding by finding: memory does not grow with the report.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::explain::fix_commands;
use crate::finding::{Finding, Status};
use crate::policy::Policy;
use crate::report::{Report, StatusCounts, verdict};

/// The page's style and script, inline.
const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/report.js");

/// The base64 SHA-256 of [`STYLE`] and of [`SCRIPT`], which the policy allows. Change them
/// with the files: the browser test (tests/browser) recomputes both and says the new values.
const STYLE_SHA256: &str = "W8YZUvV+wSkjwGmRp1TIMkxxjVKM1aFnuAgCRRJLkng=";
const SCRIPT_SHA256: &str = "bAGmivQNYGxCFmG82ttlztGyJayaU2ENbDh4TBnCogQ=";

/// The statuses in the order people look for them: the ones that need someone first (the
/// order of the CLI's table), in the charts and the filter.
const STATUS_ORDER: [Status; 5] = [
    Status::Fail,
    Status::Error,
    Status::Exempt,
    Status::Pass,
    Status::NotApplicable,
];

/// The table's columns.
const COLUMNS: [&str; 10] = [
    "account", "region", "key", "aliases", "status", "reason", "severity", "message", "exposure",
    "fix",
];

/// Writes the report as one HTML page.
pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write_head(report, out)?;
    write_summary(report, out)?;
    write_scope_errors(report, out)?;
    write_charts(report, out)?;
    write_table(report, out)?;
    write!(
        out,
        "<footer>Made by kms-rotation {}.</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn write_head(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'sha256-{STYLE_SHA256}'; script-src 'sha256-{SCRIPT_SHA256}'; \
         base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>KMS key rotation: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        verdict(report)
    )
}

fn write_summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let verdict = verdict(report);
    let class = verdict.to_lowercase().replace(' ', "-");
    write!(
        out,
        "<header>\n<h1>KMS key rotation: <span class=\"verdict verdict-{class}\" \
         id=\"verdict\">{verdict}</span></h1>\n<p class=\"meta\">Evaluated at <time \
         id=\"generated-at\">"
    )?;
    let at = report
        .generated_at
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    escape(&at, out)?;
    out.write_all(b"</time> from the <code id=\"source\">")?;
    escape(&report.scope.source, out)?;
    let summary = &report.summary;
    write!(
        out,
        "</code> source: {} keys in {} accounts and {} regions.<br>Accounts: ",
        summary.by_status.total,
        summary.by_account.len(),
        summary.by_region.len()
    )?;
    write_list(&report.scope.accounts, "accounts", out)?;
    out.write_all(b"; regions: ")?;
    write_list(&report.scope.regions, "regions", out)?;
    out.write_all(b".</p>\n</header>\n<ul class=\"counts\" aria-label=\"keys by status\">\n")?;
    for status in STATUS_ORDER {
        writeln!(
            out,
            "<li class=\"status-{status}\" data-status=\"{status}\"><span class=\"n\">{}</span> \
             {}</li>",
            summary.by_status.get(status),
            label(status)
        )?;
    }
    write!(
        out,
        "<li data-status=\"total\"><span class=\"n\">{}</span> total</li>\n</ul>\n",
        summary.by_status.total
    )?;
    if summary.by_status.error > 0 {
        writeln!(
            out,
            "<p class=\"warning\"><strong>{} keys could not be read</strong> (<code>error</code>): \
             they are neither passing nor failing until a scan reads them.</p>",
            summary.by_status.error
        )?;
    }
    Ok(())
}

/// `items` separated by commas, or "none listed" in italics.
fn write_list(items: &[String], id: &str, out: &mut dyn Write) -> io::Result<()> {
    write!(out, "<span id=\"{id}\">")?;
    if items.is_empty() {
        out.write_all(b"<em>none listed</em>")?;
    }
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.write_all(b", ")?;
        }
        escape(item, out)?;
    }
    out.write_all(b"</span>")
}

fn write_scope_errors(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if report.scope_errors.is_empty() {
        return Ok(());
    }
    write!(
        out,
        "<section class=\"warning\" id=\"scope-errors\">\n<h2>INCOMPLETE: {} regions or accounts \
         could not be listed, so their keys are not in this report</h2>\n<div class=\"scroll\">\
         <table>\n<thead><tr><th>account</th><th>region</th><th>operation</th><th>code</th>\
         <th>message</th></tr></thead>\n<tbody>\n",
        report.scope_errors.len()
    )?;
    for e in &report.scope_errors {
        let cells = [
            e.account_id.as_deref().unwrap_or("any"),
            e.region.as_deref().unwrap_or("any"),
            &e.operation,
            &e.code,
            &e.message,
        ];
        out.write_all(b"<tr>")?;
        for cell in cells {
            out.write_all(b"<td>")?;
            escape(cell, out)?;
            out.write_all(b"</td>")?;
        }
        out.write_all(b"</tr>\n")?;
    }
    out.write_all(b"</tbody>\n</table></div>\n</section>\n")
}

fn write_charts(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(b"<h2>Findings by status</h2>\n<ul class=\"legend\" aria-hidden=\"true\">")?;
    for status in STATUS_ORDER {
        write!(
            out,
            "<li><span class=\"swatch s-{status}\"></span>{}</li>",
            label(status)
        )?;
    }
    out.write_all(b"</ul>\n<div class=\"charts\">\n")?;
    write_chart("region", &report.summary.by_region, out)?;
    write_chart("account", &report.summary.by_account, out)?;
    out.write_all(b"</div>\n")
}

/// Geometry of a chart, in SVG units: a label column, then the bars, then each bar's total.
const LABEL_WIDTH: usize = 150;
const BAR_WIDTH: usize = 300;
const TOTAL_WIDTH: usize = 60;
const ROW_HEIGHT: usize = 22;
const BAR_HEIGHT: usize = 14;

/// A stacked bar per region (or account): its findings by status, each status in its colour,
/// scaled to the largest group so that the bars compare. Read aloud from its `desc`, and each
/// segment has a `title` (a tooltip).
fn write_chart(
    per: &str,
    groups: &BTreeMap<String, StatusCounts>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let width = LABEL_WIDTH + BAR_WIDTH + TOTAL_WIDTH;
    let height = ROW_HEIGHT * groups.len().max(1);
    write!(
        out,
        "<figure>\n<figcaption id=\"chart-{per}-title\">Findings per {per}</figcaption>\n\
         <svg class=\"chart\" id=\"chart-{per}\" role=\"img\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\" \
         aria-labelledby=\"chart-{per}-title chart-{per}-desc\">\n<desc id=\"chart-{per}-desc\">"
    )?;
    if groups.is_empty() {
        out.write_all(b"No findings.")?;
    }
    for (name, counts) in groups {
        escape(name, out)?;
        out.write_all(b": ")?;
        write_counts(counts, out)?;
        out.write_all(b". ")?;
    }
    out.write_all(b"</desc>\n")?;
    let largest = groups.values().map(|c| c.total).max().unwrap_or(0).max(1);
    for (row, (name, counts)) in groups.iter().enumerate() {
        let y = row * ROW_HEIGHT;
        let text_y = y + ROW_HEIGHT / 2 + 4;
        write!(
            out,
            "<g><text x=\"{}\" y=\"{text_y}\" text-anchor=\"end\">",
            LABEL_WIDTH - 8
        )?;
        escape(name, out)?;
        out.write_all(b"</text>")?;
        // Each segment starts where the one before ended, in whole thousandths of a unit, so the
        // segments of a full bar add up to exactly its width.
        let mut done = 0;
        for status in STATUS_ORDER {
            let count = counts.get(status);
            if count == 0 {
                continue;
            }
            let x = LABEL_WIDTH * 1000 + done * BAR_WIDTH * 1000 / largest;
            done += count;
            let end = LABEL_WIDTH * 1000 + done * BAR_WIDTH * 1000 / largest;
            write!(
                out,
                "<rect class=\"s-{status}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{BAR_HEIGHT}\">\
                 <title>",
                thousandths(x),
                y + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                thousandths(end - x),
            )?;
            escape(name, out)?;
            write!(out, ": {count} {}</title></rect>", label(status))?;
        }
        writeln!(
            out,
            "<text x=\"{}\" y=\"{text_y}\">{}</text></g>",
            LABEL_WIDTH + BAR_WIDTH + 6,
            counts.total
        )?;
    }
    out.write_all(b"</svg>\n</figure>\n")
}

/// `n` thousandths as a decimal number.
fn thousandths(n: usize) -> String {
    format!("{}.{:03}", n / 1000, n % 1000)
}

/// "2 fail, 1 pass": the statuses that occur, in [`STATUS_ORDER`].
fn write_counts(counts: &StatusCounts, out: &mut dyn Write) -> io::Result<()> {
    let mut first = true;
    for status in STATUS_ORDER {
        let count = counts.get(status);
        if count > 0 {
            let comma = if first { "" } else { ", " };
            write!(out, "{comma}{count} {}", label(status))?;
            first = false;
        }
    }
    Ok(())
}

fn write_table(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let total = report.findings.len();
    out.write_all(
        b"<h2 id=\"findings-title\">Findings</h2>\n<div class=\"controls\">\n\
          <label>Filter <input type=\"search\" id=\"filter\" placeholder=\"text in any column\">\
          </label>\n<label>Status <select id=\"status-filter\"><option value=\"\">all</option>",
    )?;
    for status in STATUS_ORDER {
        write!(out, "<option value=\"{status}\">{}</option>", label(status))?;
    }
    write!(
        out,
        "</select></label>\n<span id=\"shown\" aria-live=\"polite\">{total} of {total} findings \
         shown</span>\n</div>\n<div class=\"scroll\">\n<table id=\"findings\" \
         aria-labelledby=\"findings-title\">\n<thead><tr>"
    )?;
    for column in COLUMNS {
        write!(
            out,
            "<th aria-sort=\"none\"><button type=\"button\">{column}</button></th>"
        )?;
    }
    out.write_all(b"</tr></thead>\n<tbody>\n")?;
    for finding in &report.findings {
        write_row(finding, &report.policy, out)?;
    }
    out.write_all(b"</tbody>\n</table>\n</div>\n")?;
    if total == 0 {
        out.write_all(b"<p>No findings.</p>\n")?;
    }
    Ok(())
}

fn write_row(f: &Finding, policy: &Policy, out: &mut dyn Write) -> io::Result<()> {
    write!(out, "<tr data-status=\"{}\"><td>", f.status)?;
    escape(&f.account_id, out)?;
    out.write_all(b"</td><td>")?;
    escape(&f.region, out)?;
    out.write_all(b"</td><td class=\"key\"><code>")?;
    escape(&f.key_id, out)?;
    out.write_all(b"</code><div class=\"arn\">")?;
    escape(&f.arn, out)?;
    out.write_all(b"</div></td><td>")?;
    match &f.aliases {
        None => out.write_all(b"<em>not read</em>")?,
        Some(aliases) => {
            for (i, alias) in aliases.iter().enumerate() {
                if i > 0 {
                    out.write_all(b"<br>")?;
                }
                escape(alias, out)?;
            }
        }
    }
    // The severity sorts by rank, not by name.
    write!(
        out,
        "</td><td class=\"status\">{}</td><td><code>{}</code></td><td data-sort=\"{}\">{}</td><td class=\"message\">",
        f.status, f.reason, f.severity as u8, f.severity
    )?;
    escape(&f.message, out)?;
    out.write_all(b"</td><td class=\"exposure\">")?;
    write_exposure(f, out)?;
    out.write_all(b"</td><td class=\"fix\">")?;
    write_fix(f, policy, out)?;
    out.write_all(b"</td></tr>\n")
}

/// Who beyond the account may use the key, and the statements or grants that say so.
fn write_exposure(f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let Some(exposure) = &f.exposure else {
        return out.write_all(b"<em>not read</em>");
    };
    out.write_all(exposure.level.as_str().as_bytes())?;
    for evidence in &exposure.evidence {
        out.write_all(b"<div class=\"arn\">")?;
        escape(
            &format!(
                "{} {}: {}",
                evidence.source, evidence.statement, evidence.detail
            ),
            out,
        )?;
        out.write_all(b"</div>")?;
    }
    if let Some(error) = &exposure.error {
        out.write_all(b"<div class=\"arn\">")?;
        escape(&format!("{} {}", error.operation, error.code), out)?;
        out.write_all(b"</div>")?;
    }
    Ok(())
}

/// The key's fix, where `explain::fix_commands` gives one (a failing or exempt key): the
/// commands for its reason, on the key the fix goes to (a replica's primary), with the policy's
/// period.
fn write_fix(f: &Finding, policy: &Policy, out: &mut dyn Write) -> io::Result<()> {
    let commands = fix_commands(f, policy);
    if commands.is_empty() {
        return Ok(());
    }
    for command in commands {
        out.write_all(b"<code>")?;
        escape(&command, out)?;
        out.write_all(b"</code>")?;
    }
    if f.remediation_target
        .as_deref()
        .is_some_and(|target| target != f.arn)
    {
        out.write_all(b"<div class=\"arn\">on its primary key</div>")?;
    }
    Ok(())
}

/// How a status reads in prose: `not applicable` rather than `not_applicable`.
fn label(status: Status) -> &'static str {
    match status {
        Status::NotApplicable => "not applicable",
        other => other.as_str(),
    }
}

/// Writes `text` with every character that HTML could read as markup replaced by its entity:
/// safe in an element's text and in a double- or single-quoted attribute.
fn escape(text: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
        out.write_all(&rest.as_bytes()[..at])?;
        let entity: &[u8] = match rest.as_bytes()[at] {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            _ => b"&#39;",
        };
        out.write_all(entity)?;
        rest = &rest[at + 1..];
    }
    out.write_all(rest.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escaping_leaves_no_markup() {
        let mut out = Vec::new();
        escape("a<b>&\"c\"'d' é", &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39; é"
        );
    }
}
