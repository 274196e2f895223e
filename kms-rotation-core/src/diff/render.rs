//! Renderings of a diff: JSON for programs, a table for people at a terminal, and Markdown for a
//! ticket or a pull request. Every rendering says first whether things got worse, whether either
//! report is incomplete and whether the policy changed, then the keys, worst first.

use std::io::Write;

use strum::{IntoStaticStr, VariantArray};

use super::{Category, DiffCounts, KeyChange, ReportDiff};
use crate::Result;
use crate::document;
use crate::finding::{Reason, Status};
use crate::report::markdown::escaped;
use crate::wire::wire_names;

/// Diff renderings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
#[non_exhaustive]
pub enum DiffFormat {
    /// The diff, pretty-printed JSON (docs/formats.md).
    Json,
    /// Aligned columns for people: the verdict, the keys that changed, the counts per account
    /// and region.
    Table,
    /// The same for a ticket or a pull request.
    Markdown,
}
wire_names!(DiffFormat, "diff format");

impl ReportDiff {
    /// Writes the diff in `format`.
    pub fn render(&self, format: DiffFormat, out: &mut dyn Write) -> Result<()> {
        document::write(out, "the diff", |out| match format {
            DiffFormat::Json => document::json(out, self),
            DiffFormat::Table => out.write_all(self.table().as_bytes()),
            DiffFormat::Markdown => out.write_all(self.markdown().as_bytes()),
        })
    }

    /// The diff in `format`, as a string.
    pub fn render_to_string(&self, format: DiffFormat) -> Result<String> {
        document::to_string(|out| self.render(format, out))
    }

    /// The verdict in one line: what got worse, or that nothing did.
    fn verdict(&self) -> String {
        let c = &self.counts;
        if !self.worse {
            return format!(
                "not worse: no key regressed, lapsed or newly failing ({} fixed, {} still failing)",
                c.fixed, c.still_failing
            );
        }
        format!(
            "WORSE: {} regressed, {} lapsed, {} new failing ({} fixed, {} still failing)",
            c.regressed, c.lapsed, c.new_failing, c.fixed, c.still_failing
        )
    }

    /// What a reader must know before trusting the lists: incomplete reports, a changed policy.
    fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        type Side<'a> = (&'a str, bool, &'a str, fn(&KeyChange) -> Option<Status>);
        let sides: [Side; 2] = [
            ("old", self.old.complete, "new", |k| k.old_status),
            ("new", self.new.complete, "old", |k| k.new_status),
        ];
        for (name, complete, other, status) in sides {
            if !complete {
                // The keys the other report has where this one could not look.
                let unseen = (self.not_compared.iter())
                    .filter(|k| status(k).is_none())
                    .count();
                warnings.push(format!(
                    "the {name} report is INCOMPLETE: it could not list some accounts or \
                     regions, so {unseen} key(s) of the {other} report there are not compared"
                ));
            }
        }
        if self.policy_changed {
            warnings.push(
                "the policy changed between the reports: a verdict may have changed because of \
                 it, not because of the key"
                    .to_owned(),
            );
        }
        warnings
    }

    /// Every key that changed, worst category first, each in account, region, ARN order.
    fn changes(&self) -> impl Iterator<Item = (Category, &KeyChange)> {
        Category::ALL
            .into_iter()
            .flat_map(|c| self.keys(c).iter().map(move |key| (c, key)))
    }

    fn span(&self) -> String {
        let time = |t: &chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        };
        format!(
            "{} -> {}",
            time(&self.old.generated_at),
            time(&self.new.generated_at)
        )
    }

    fn table(&self) -> String {
        let mut out = format!("kms-rotation diff {}\n{}\n", self.span(), self.verdict());
        for warning in self.warnings() {
            out += &format!("warning: {warning}\n");
        }
        out += "\n";
        let rows: Vec<Vec<String>> = self
            .changes()
            .map(|(category, key)| {
                vec![
                    category.as_str().to_owned(),
                    key.key_id.clone(),
                    key.region.clone(),
                    key.account_id.clone(),
                    verdict_of(key.old_status, key.old_reason),
                    verdict_of(key.new_status, key.new_reason),
                    exception(key),
                ]
            })
            .collect();
        if rows.is_empty() {
            out += "no key changed\n";
        } else {
            let header = [
                "CHANGE",
                "KEY",
                "REGION",
                "ACCOUNT",
                "BEFORE",
                "NOW",
                "EXCEPTION",
            ];
            out += &columns(&header, &rows);
        }
        out += "\n";
        let mut header = vec!["ACCOUNT".to_owned(), "REGION".to_owned()];
        header.extend(counted(self.counts).map(|(name, _)| name.to_uppercase()));
        let mut rows: Vec<Vec<String>> = (self.by_account_region.iter())
            .map(|place| counts_row(&place.account_id, &place.region, &place.counts))
            .collect();
        rows.push(counts_row("total", "", &self.counts));
        out += &columns(&header, &rows);
        out
    }

    fn markdown(&self) -> String {
        let mut out = format!(
            "# KMS key rotation: progress\n\n{}: **{}**\n\n",
            self.span(),
            self.verdict()
        );
        for warning in self.warnings() {
            out += &format!("**Warning**: {warning}.\n\n");
        }
        out += "| change | keys |\n|---|---:|\n";
        for (name, count) in counted(self.counts) {
            out += &format!("| {} | {count} |\n", escaped(name));
        }
        out += "\n## Keys that changed\n\n";
        if self.changes().next().is_none() {
            out += "None.\n";
        } else {
            out += "| change | key | region | account | before | now | exception |\n";
            out += "|---|---|---|---|---|---|---|\n";
            for (category, key) in self.changes() {
                out += &format!(
                    "| {} | {} | {} | {} | {} | {} | {} |\n",
                    escaped(category.as_str()),
                    escaped(&key.key_id),
                    escaped(&key.region),
                    escaped(&key.account_id),
                    escaped(&verdict_of(key.old_status, key.old_reason)),
                    escaped(&verdict_of(key.new_status, key.new_reason)),
                    escaped(&exception(key)),
                );
            }
        }
        out += "\n## Per account and region\n\n| account | region |";
        for (name, _) in counted(self.counts) {
            out += &format!(" {} |", escaped(name));
        }
        out += "\n|---|---|";
        out += &"---:|".repeat(counted(self.counts).count());
        out += "\n";
        for place in &self.by_account_region {
            let cells = counts_row(&place.account_id, &place.region, &place.counts);
            let cells: Vec<String> = cells.iter().map(|c| escaped(c)).collect();
            out += &format!("| {} |\n", cells.join(" | "));
        }
        out
    }
}

/// Each category's count, worst first as the lists are, then `still_failing`.
fn counted(counts: DiffCounts) -> impl Iterator<Item = (&'static str, usize)> {
    (Category::ALL.into_iter())
        .map(move |c| (c.as_str(), counts.get(c)))
        .chain([("still_failing", counts.still_failing)])
}

fn counts_row(account: &str, region: &str, counts: &DiffCounts) -> Vec<String> {
    let mut row = vec![account.to_owned(), region.to_owned()];
    row.extend(counted(*counts).map(|(_, count)| count.to_string()));
    row
}

/// A status and its reason (`fail (rotation_disabled)`), or `absent` from that report.
fn verdict_of(status: Option<Status>, reason: Option<Reason>) -> String {
    match (status, reason) {
        (Some(status), Some(reason)) => format!("{status} ({reason})"),
        (Some(status), None) => status.to_string(),
        (None, _) => "absent".to_owned(),
    }
}

/// The exception in a few words: owner, ticket, last day, and whether it expired.
fn exception(key: &KeyChange) -> String {
    let Some(e) = &key.exception else {
        return String::new();
    };
    let mut text = e.owner.clone();
    if let Some(ticket) = &e.ticket {
        text += &format!(" {ticket}");
    }
    text += &format!(", until {}", e.expires);
    if e.expired {
        text += " (expired)";
    }
    // One line per row: a policy's text cannot break the table.
    text.replace(['\n', '\r'], " ")
}

/// Rows under a header, each column as wide as its widest cell, two spaces apart.
fn columns<H: AsRef<str>, S: AsRef<str>>(header: &[H], rows: &[Vec<S>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.as_ref().chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.as_ref().chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let padded: Vec<String> = cells
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&mut header.iter().map(AsRef::as_ref));
    for row in rows {
        out += &line(&mut row.iter().map(AsRef::as_ref));
    }
    out
}
