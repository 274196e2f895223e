//! A report as a table for people: one row per finding shown, grouped by status with what needs
//! attention first, then the summary. Display only: every value comes from the finding as the
//! core made it; a fact the scan did not read says so, and is never shown as empty.

use std::io::{self, Write};

use comfy_table::{
    Attribute, Cell, Color, ColumnConstraint, ContentArrangement, LineStyle, Table, TableStyle,
    Width,
};
use kms_rotation::{Finding, PeriodSource, Report, RotationPeriod, Status};

/// How the table is drawn: colours on or off, and the width to fit (none: no wrapping).
#[derive(Debug, Clone, Copy)]
pub struct Look {
    pub colour: bool,
    pub width: Option<u16>,
}

/// Columns apart, a rule under the header and one at the end: rows read across, and the eye
/// finds the end of a group by its status.
const STYLE: TableStyle = TableStyle::new()
    .header_separator(LineStyle::none().fill('─').junction('─'))
    .bottom_border(LineStyle::none().fill('─').junction('─'));

/// Statuses in the order their groups are shown.
const GROUPS: [Status; 5] = [
    Status::Fail,
    Status::Error,
    Status::Exempt,
    Status::Pass,
    Status::NotApplicable,
];

const NOT_READ: &str = "not read";

/// Writes the findings whose status is in `shown` (every finding when empty), then the summary
/// of the whole report.
pub fn write(report: &Report, shown: &[Status], look: Look, out: &mut dyn Write) -> io::Result<()> {
    let findings: Vec<&Finding> = GROUPS
        .iter()
        .filter(|status| shown.is_empty() || shown.contains(status))
        .flat_map(|status| report.findings.iter().filter(move |f| f.status == *status))
        .collect();
    if !findings.is_empty() {
        // Key ids stay whole unless the table cannot fit the terminal otherwise.
        let mut lines = layout(&findings, look, KeyColumn::Whole);
        if let Some(width) = look.width
            && lines
                .iter()
                .any(|l| console::measure_text_width(l) > usize::from(width))
        {
            lines = layout(&findings, look, KeyColumn::BreaksAtDashes);
        }
        for line in lines {
            writeln!(out, "{}", line.trim_end())?;
        }
    }
    if findings.len() < report.findings.len() {
        writeln!(
            out,
            "{} of {} findings shown (--status).",
            findings.len(),
            report.findings.len()
        )?;
    }
    out.write_all(crate::output::summary(report, look.colour).as_bytes())
}

/// An empty table in the CLI's style with `header`, coloured and fitted to the width as `look`
/// says: on a terminal narrower than the table, free text wraps.
pub fn new_table<const N: usize>(header: [&str; N], look: Look) -> Table {
    let mut table = Table::new();
    table
        .load_style(STYLE)
        .force_no_tty()
        .set_header(header.map(|title| bold(Cell::new(title), look.colour)));
    if look.colour {
        table.enforce_styling();
    }
    match look.width {
        Some(width) => table
            .set_width(width)
            .set_content_arrangement(ContentArrangement::Dynamic),
        None => table.set_content_arrangement(ContentArrangement::Disabled),
    };
    table
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyColumn {
    Whole,
    BreaksAtDashes,
}

/// The table's lines. On a terminal narrower than the table, the free text (reasons, aliases)
/// wraps, and no column shrinks below what keeps it readable.
fn layout(findings: &[&Finding], look: Look, key: KeyColumn) -> Vec<String> {
    let mut table = new_table(
        [
            "STATUS",
            "REASON",
            "KEY",
            "ALIAS",
            "REGION",
            "ACCOUNT",
            "PERIOD",
            "NEXT ROTATION",
        ],
        look,
    );
    let at_least = |width| ColumnConstraint::LowerBoundary(Width::Fixed(width));
    table.set_constraints([
        ColumnConstraint::ContentWidth, // status
        at_least(20),                   // reason
        match key {
            KeyColumn::Whole => ColumnConstraint::ContentWidth,
            KeyColumn::BreaksAtDashes => at_least(24), // up to a key id's fourth dash
        },
        at_least(14),                   // alias
        ColumnConstraint::ContentWidth, // region
        ColumnConstraint::ContentWidth, // account
        at_least(8),                    // period
        at_least(10),                   // next rotation: a date
    ]);
    if let Some(column) = table.column_mut(2) {
        column.set_delimiter('-');
    }
    for finding in findings {
        table.add_row(row(finding, look.colour));
    }
    table.lines().collect()
}

fn row(finding: &Finding, colour: bool) -> [Cell; 8] {
    [
        status_cell(finding.status, colour),
        Cell::new(reason(finding)),
        Cell::new(&finding.key_id),
        Cell::new(alias(finding)),
        Cell::new(&finding.region),
        Cell::new(&finding.account_id),
        Cell::new(period(finding)),
        Cell::new(next_rotation(finding)),
    ]
}

fn status_cell(status: Status, colour: bool) -> Cell {
    let cell = Cell::new(status.as_str());
    if !colour {
        return cell;
    }
    match status {
        Status::Fail => cell.fg(Color::Red).add_attribute(Attribute::Bold),
        Status::Error => cell.fg(Color::Magenta).add_attribute(Attribute::Bold),
        Status::Exempt => cell.fg(Color::Yellow),
        Status::Pass => cell.fg(Color::Green),
        Status::NotApplicable => cell.add_attribute(Attribute::Dim),
    }
}

fn bold(cell: Cell, colour: bool) -> Cell {
    if colour {
        cell.add_attribute(Attribute::Bold)
    } else {
        cell
    }
}

/// The reason code, with what a person looks up next: the AWS error code of an `error`, the
/// exception of an `exempt` (or the lapsed one of a `fail`).
fn reason(finding: &Finding) -> String {
    let reason = finding.reason.as_str();
    if let Some(error) = &finding.error {
        return format!("{reason} ({})", error.code);
    }
    match &finding.exception {
        Some(exception) if exception.expired => {
            format!("{reason} (exception expired {})", exception.expires)
        }
        Some(exception) => format!("{reason} (exempt until {})", exception.expires),
        None => reason.to_owned(),
    }
}

fn alias(finding: &Finding) -> String {
    match finding.aliases.as_deref() {
        None => NOT_READ.to_owned(),
        Some([]) => "none".to_owned(),
        Some([one]) => one.clone(),
        Some([first, rest @ ..]) => format!("{first} (+{})", rest.len()),
    }
}

fn period(finding: &Finding) -> String {
    let Some(rotation) = &finding.rotation else {
        return NOT_READ.to_owned();
    };
    if !rotation.enabled {
        return "off".to_owned();
    }
    match (rotation.period_days, finding.period_source) {
        (Some(days), _) => format!("{days} days"),
        // The rule took AWS's default: say so rather than pass it off as reported.
        (None, Some(PeriodSource::AssumedDefault)) => {
            format!("{} days (assumed)", RotationPeriod::AWS_DEFAULT.days())
        }
        (None, _) => "not reported".to_owned(),
    }
}

fn next_rotation(finding: &Finding) -> String {
    let Some(rotation) = &finding.rotation else {
        return NOT_READ.to_owned();
    };
    match (rotation.enabled, rotation.next_rotation_date) {
        (false, _) => "none".to_owned(),
        (true, Some(date)) => date.format("%Y-%m-%d").to_string(),
        (true, None) => "not reported".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample fleet under the sample policy and exceptions: every status.
    fn sample() -> Report {
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
        let inventory: kms_rotation::Inventory =
            kms_rotation::input::read_file(&examples.join("fleet.json")).unwrap();
        let mut policy = kms_rotation::Policy::from_file(examples.join("policy.yaml")).unwrap();
        policy
            .add_exceptions_file(examples.join("exceptions.yaml"))
            .unwrap();
        Report::evaluate(
            &inventory.keys,
            policy,
            kms_rotation::ReportScope::default(),
            vec![],
            "2026-11-22T12:00:00Z".parse().unwrap(),
        )
    }

    fn render(report: &Report, shown: &[Status], look: Look) -> String {
        let mut out = Vec::new();
        write(report, shown, look, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    const PLAIN: Look = Look {
        colour: false,
        width: None,
    };

    #[test]
    fn every_finding_has_a_row_grouped_by_status_fail_first() {
        let report = sample();
        let text = render(&report, &[], PLAIN);
        for finding in &report.findings {
            assert!(text.contains(&finding.key_id), "{text}");
        }
        let first_row = |status: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with(&format!("{status} ")))
                .unwrap_or_else(|| panic!("no {status} row:\n{text}"))
        };
        assert!(first_row("fail") < first_row("error"));
        assert!(first_row("error") < first_row("exempt"));
        assert!(first_row("exempt") < first_row("pass"));
        assert!(first_row("pass") < first_row("not_applicable"));
        assert!(
            text.contains("NOT compliant"),
            "ends with the summary: {text}"
        );
        assert!(!text.contains('\x1b'), "no colour asked for: {text}");
    }

    #[test]
    fn status_filters_the_rows_but_not_the_summary() {
        let report = sample();
        let text = render(&report, &[Status::Fail, Status::Error], PLAIN);
        for finding in &report.findings {
            let shown = matches!(finding.status, Status::Fail | Status::Error);
            assert_eq!(text.contains(&finding.key_id), shown, "{text}");
        }
        let counts = &report.summary.by_status;
        assert!(
            text.contains(&format!(
                "{} of {} findings shown",
                counts.fail + counts.error,
                counts.total
            )),
            "{text}"
        );
        assert!(text.contains(&format!("{} pass", counts.pass)), "{text}");
    }

    #[test]
    fn colour_only_when_asked_and_the_width_is_kept() {
        let report = sample();
        let widest = |text: &str| text.lines().map(console::measure_text_width).max().unwrap();
        let wide = render(
            &report,
            &[],
            Look {
                colour: true,
                width: Some(180),
            },
        );
        assert!(wide.contains("\x1b["), "{wide}");
        assert!(widest(&wide) <= 180, "{wide}");
        for finding in &report.findings {
            assert!(
                wide.contains(&finding.key_id),
                "key ids stay whole:\n{wide}"
            );
        }
        // Narrower: reasons, aliases and then key ids (at their dashes) wrap to fit.
        let narrow = render(
            &report,
            &[],
            Look {
                colour: false,
                width: Some(130),
            },
        );
        assert!(widest(&narrow) <= 130, "{narrow}");
        assert!(narrow.contains("00000012-0000-4000"), "{narrow}");
    }

    #[test]
    fn facts_not_read_say_so() {
        let mut report = sample();
        let finding = &mut report.findings[0];
        finding.aliases = None;
        finding.rotation = None;
        let key_id = finding.key_id.clone();
        let text = render(&report, &[], PLAIN);
        let line = text.lines().find(|l| l.contains(&key_id)).unwrap();
        assert_eq!(line.matches(NOT_READ).count(), 3, "{line}");
    }
}
