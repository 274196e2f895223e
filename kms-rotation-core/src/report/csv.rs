//! The CSV rendering: one row per finding under a fixed header, for spreadsheets and for tools
//! that read tables. Written finding by finding: memory does not grow with the report.
//!
//! Three promises, documented in docs/formats.md: the columns keep their names and order (new
//! ones go at the end); a fact that was not read is `not_read`, never an empty cell or `false`;
//! and no cell can start a spreadsheet formula.

use std::borrow::Cow;
use std::io::Write;

use crate::finding::Finding;
use crate::model::Rotation;

/// The header, in order. Stable: a column is only ever added at the end.
pub const COLUMNS: [&str; 23] = [
    "account_id",
    "region",
    "key_id",
    "arn",
    "aliases",
    "status",
    "reason",
    "severity",
    "message",
    "rotation_enabled",
    "rotation_period_days",
    "next_rotation_date",
    "remediable",
    "remediation_target",
    "exception_owner",
    "exception_expires",
    "exception_expired",
    "error_code",
    "controls",
    "exposure",
    "file",
    "line",
    "address",
];

/// A fact that was not read, or whose read failed: never an empty cell, which means "none".
pub const NOT_READ: &str = "not_read";

/// Separates the items of a list in one cell (aliases, controls); neither ever contains it.
const LIST_SEPARATOR: &str = ";";

/// Writes `findings` as CSV, header first.
pub(super) fn write<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(COLUMNS)?;
    for finding in findings {
        for cell in row(finding) {
            writer.write_field(neutralised(&cell).as_bytes())?;
        }
        // No more fields: ends the row.
        writer.write_record(None::<&[u8]>)?;
    }
    writer.flush()
}

/// A finding's cells, in the order of [`COLUMNS`].
fn row(f: &Finding) -> [Cow<'_, str>; COLUMNS.len()] {
    let rotation = f.rotation.as_ref();
    let exception = f.exception.as_ref();
    let location = f.location.as_ref();
    [
        f.account_id.as_str().into(),
        f.region.as_str().into(),
        f.key_id.as_str().into(),
        f.arn.as_str().into(),
        f.aliases
            .as_ref()
            .map_or(NOT_READ.into(), |a| a.join(LIST_SEPARATOR).into()),
        f.status.as_str().into(),
        f.reason.as_str().into(),
        f.severity.as_str().into(),
        f.message.as_ref().into(),
        rotation.map_or(NOT_READ.into(), |r| r.enabled.to_string().into()),
        rotation_fact(rotation, |r| r.period_days.map(|days| days.to_string())),
        rotation_fact(rotation, |r| {
            r.next_rotation_date
                .map(|date| date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        }),
        f.remediable.to_string().into(),
        f.remediation_target.as_deref().unwrap_or("").into(),
        exception.map_or("", |e| e.owner.as_str()).into(),
        exception.map_or(Cow::Borrowed(""), |e| e.expires.to_string().into()),
        exception.map_or(Cow::Borrowed(""), |e| e.expired.to_string().into()),
        f.error.as_ref().map_or("", |e| e.code.as_str()).into(),
        f.controls
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(LIST_SEPARATOR)
            .into(),
        f.exposure
            .as_ref()
            .map_or(NOT_READ, |e| e.level.as_str())
            .into(),
        // Where a key read from code is declared; empty for a key read from AWS.
        location.map_or("", |l| l.file.as_str()).into(),
        location
            .and_then(|l| l.line)
            .map_or(Cow::Borrowed(""), |line| line.to_string().into()),
        location.map_or("", |l| l.address.as_str()).into(),
    ]
}

/// A fact of the rotation status: `not_read` when the status was not read, or when rotation is
/// on and the source did not report the fact (the rule may have assumed a 365-day period, see
/// `period_source`; the table shows what was read); empty when rotation is off, which has none.
fn rotation_fact(
    rotation: Option<&Rotation>,
    fact: impl Fn(&Rotation) -> Option<String>,
) -> Cow<'static, str> {
    match rotation {
        Some(r) => match fact(r) {
            Some(value) => value.into(),
            None if !r.enabled => "".into(),
            None => NOT_READ.into(),
        },
        None => NOT_READ.into(),
    }
}

/// A cell a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return: OWASP's list) gets a leading `'`, which spreadsheets show as text. Any
/// cell may carry text from a user's files (an exception's owner, an alias), so every cell is
/// checked. A cell that starts with `'` gets one too, so that a reader always drops exactly
/// one to get the value back.
fn neutralised(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\'') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}
