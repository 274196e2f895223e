//! Renderings of an exceptions review: JSON (for programs), a table for people in a terminal,
//! and Markdown (a ticket, a pull request, a wiki page).

use std::io::Write;

use chrono::SecondsFormat;
use strum::{IntoStaticStr, VariantArray};

use super::{ExceptionState, ExceptionsReview, ReviewedException};
use crate::Result;
use crate::document;
use crate::policy::ExceptionMatch;
use crate::report::markdown::escaped;
use crate::wire::wire_names;

/// Exceptions review renderings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
#[non_exhaustive]
pub enum ExceptionsFormat {
    /// The review as JSON (`formats.md`).
    Json,
    /// Aligned columns for reading in a terminal.
    Table,
    /// A Markdown page: the counts, then a table.
    Markdown,
}
wire_names!(ExceptionsFormat, "exceptions format");

impl ExceptionsReview {
    /// Writes the review in `format`.
    pub fn render(&self, format: ExceptionsFormat, out: &mut dyn Write) -> Result<()> {
        document::write(out, "the exceptions review", |out| match format {
            ExceptionsFormat::Json => document::json(out, self),
            ExceptionsFormat::Table => out.write_all(self.table().as_bytes()),
            ExceptionsFormat::Markdown => out.write_all(self.markdown().as_bytes()),
        })
    }

    /// The review in `format`, as a string.
    pub fn render_to_string(&self, format: ExceptionsFormat) -> Result<String> {
        document::to_string(|out| self.render(format, out))
    }

    /// The counts, one line.
    fn counts(&self) -> String {
        let s = &self.summary;
        format!(
            "{} exception(s): {} expired, {} unused, {} unknown, {} expiring within {} days, {} active",
            s.total, s.expired, s.unused, s.unknown, s.expiring, self.within_days, s.active
        )
    }

    /// What needs doing, one sentence each: lapsed exceptions on failing keys, an incomplete
    /// report, exceptions that cannot be told.
    fn warnings(&self) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if self.summary.expired_failing {
            warnings
                .push("An expired exception still matches a failing key: renew it or fix the key.");
        }
        if !self.complete {
            warnings.push(
                "The report is incomplete (a region or account was not listed): an exception \
                 matching no listed key may match one that was not, so none is called unused.",
            );
        }
        if self.summary.unknown > 0 {
            warnings.push(
                "Some exceptions match on tags or aliases that were not read: scan with \
                 --all-tags (and aliases readable) to tell whether they are used.",
            );
        }
        warnings
    }

    fn rows(&self) -> Vec<[String; 9]> {
        self.exceptions.iter().map(row).collect()
    }

    fn table(&self) -> String {
        let rows = self.rows();
        let mut widths = HEADER.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[&str]| -> String {
            let padded: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        let mut out = self.counts() + "\n";
        for warning in self.warnings() {
            out += warning;
            out.push('\n');
        }
        if rows.is_empty() {
            return out;
        }
        out.push('\n');
        out += &line(&HEADER);
        for row in &rows {
            out += &line(&row.each_ref().map(String::as_str));
        }
        for (state, title) in ATTENTION {
            let keys = self.attention(state);
            if !keys.is_empty() {
                out += &format!("\n{title}:\n");
                for (exception, arn) in keys {
                    out += &format!("  {} ({}): {arn}\n", exception.owner, described(exception));
                }
            }
        }
        out
    }

    fn markdown(&self) -> String {
        let verdict = if self.summary.expired_failing {
            "EXPIRED exceptions on failing keys"
        } else if !self.complete {
            "INCOMPLETE"
        } else {
            "reviewed"
        };
        let mut out = format!("# KMS key rotation exceptions: {verdict}\n\n");
        out += &format!(
            "Reviewed {} (report of {}). {}.\n",
            self.reviewed_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            self.report_generated_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
            self.counts()
        );
        for warning in self.warnings() {
            out += &format!("\n> {warning}\n");
        }
        if self.exceptions.is_empty() {
            return out;
        }
        out += &format!("\n| {} |\n", HEADER.map(title_case).join(" | "));
        out += &format!("|{}\n", "---|".repeat(HEADER.len()));
        for row in self.rows() {
            out += &format!("| {} |\n", row.map(|cell| escaped(&cell)).join(" | "));
        }
        for (state, title) in ATTENTION {
            let keys = self.attention(state);
            if !keys.is_empty() {
                out += &format!("\n## {title}\n\n");
                for (exception, arn) in keys {
                    out += &format!(
                        "- {} ({}): `{arn}`\n",
                        escaped(&exception.owner),
                        escaped(&described(exception))
                    );
                }
            }
        }
        out
    }

    /// The failing keys of the exceptions in `state`, each with its exception.
    fn attention(&self, state: ExceptionState) -> Vec<(&ReviewedException, &str)> {
        self.exceptions
            .iter()
            .filter(|e| e.state == state)
            .flat_map(|e| e.failing_keys.iter().map(move |arn| (e, arn.as_str())))
            .collect()
    }
}

const HEADER: [&str; 9] = [
    "STATE", "EXPIRES", "DAYS", "OWNER", "MATCH", "TICKET", "KEYS", "FAILING", "UNKNOWN",
];

/// The states whose failing keys are listed under the table, with the list's title.
const ATTENTION: [(ExceptionState, &str); 2] = [
    (
        ExceptionState::Expired,
        "Failing keys of expired exceptions (renew the exception or fix the key)",
    ),
    (
        ExceptionState::Expiring,
        "Failing keys of expiring exceptions (fix them before the expiry day)",
    ),
];

fn row(e: &ReviewedException) -> [String; 9] {
    [
        e.state.to_string(),
        e.expires.to_string(),
        e.days_left.to_string(),
        one_line(&e.owner),
        one_line(&matcher(&e.matcher)),
        one_line(e.ticket.as_deref().unwrap_or("")),
        e.matched_keys.len().to_string(),
        e.failing_keys.len().to_string(),
        e.unknown_keys.len().to_string(),
    ]
}

/// How an exception picks its key, as people write it.
fn matcher(matcher: &ExceptionMatch) -> String {
    match matcher {
        ExceptionMatch::Arn(arn) => arn.clone(),
        ExceptionMatch::KeyId(id) => format!("key_id {id}"),
        ExceptionMatch::Alias(alias) if alias.starts_with("alias/") => alias.clone(),
        ExceptionMatch::Alias(alias) => format!("alias/{alias}"),
        ExceptionMatch::Tag { key, value } => format!("tag {key}={value}"),
    }
}

/// An exception named for a list: its ticket, else what it matches.
fn described(e: &ReviewedException) -> String {
    one_line(&e.ticket.clone().unwrap_or_else(|| matcher(&e.matcher)))
}

/// A value made safe for one cell of one line: no line breaks.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn title_case(header: &str) -> String {
    let lower = header.to_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
