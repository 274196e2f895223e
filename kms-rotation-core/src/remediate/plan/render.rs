//! Renderings of a plan: JSON (the plan file), a table for people, and a shell script for teams
//! that apply changes through code review rather than through this tool.

use std::collections::BTreeMap;
use std::io::Write;

use strum::{IntoStaticStr, VariantArray};

use super::{Plan, SkipReason};
use crate::Result;
use crate::document;
use crate::shell::quote;
use crate::wire::wire_names;

/// Plan renderings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
#[non_exhaustive]
pub enum PlanFormat {
    /// The plan file: what `apply` reads.
    Json,
    /// Aligned columns for reading in a terminal.
    Table,
    /// `aws kms enable-key-rotation` lines, then `get-key-rotation-status` checks.
    Script,
}
wire_names!(PlanFormat, "plan format");

impl Plan {
    /// Writes the plan in `format`.
    pub fn render(&self, format: PlanFormat, out: &mut dyn Write) -> Result<()> {
        document::write(out, "the plan", |out| match format {
            PlanFormat::Json => document::json(out, self),
            PlanFormat::Table => out.write_all(self.table().as_bytes()),
            PlanFormat::Script => out.write_all(self.script().as_bytes()),
        })
    }

    /// The plan in `format`, as a string.
    pub fn render_to_string(&self, format: PlanFormat) -> Result<String> {
        document::to_string(|out| self.render(format, out))
    }

    fn skip_counts(&self) -> BTreeMap<SkipReason, usize> {
        let mut counts = BTreeMap::new();
        for skip in &self.skips {
            *counts.entry(skip.reason).or_default() += 1;
        }
        counts
    }

    fn table(&self) -> String {
        let header = [
            "BATCH", "PRIO", "ACCOUNT", "REGION", "TARGET", "PERIOD", "FIXES", "WHY", "NOTE",
        ];
        let rows: Vec<[String; 9]> = self
            .actions
            .iter()
            .map(|a| {
                [
                    a.batch.to_string(),
                    a.priority.to_string(),
                    a.account_id.clone(),
                    a.region.clone(),
                    a.target_arn.clone(),
                    a.rotation_period_days.days().to_string(),
                    a.because.len().to_string(),
                    a.priority_reason.clone(),
                    a.managed_by_cloudformation
                        .as_ref()
                        .map(|s| format!("CloudFormation stack {s}: fix the template too"))
                        .unwrap_or_default(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.len());
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
        let mut out = format!(
            "{} action(s) in {} batch(es), rotation period {} days; {} finding(s) skipped\n\n",
            self.actions.len(),
            self.batches(),
            self.policy.target_rotation_period_days.days(),
            self.skips.len()
        );
        out += &line(&header);
        for row in &rows {
            out += &line(&row.each_ref().map(String::as_str));
        }
        if !self.skips.is_empty() {
            out += "\nskipped:\n";
            for (reason, count) in self.skip_counts() {
                out += &format!("  {reason:<22} {count}\n");
            }
        }
        out
    }

    fn script(&self) -> String {
        let mut out = String::from("#!/usr/bin/env bash\n");
        out += &format!(
            "# kms-rotation remediation plan generated {}: {} key(s), rotation period {} days.\n",
            self.generated_at.to_rfc3339(),
            self.actions.len(),
            self.policy.target_rotation_period_days.days()
        );
        out +=
            "# Review, then run with credentials for each account named below. The checks at the\n";
        out += "# end print each key's rotation status (AWS is eventually consistent: allow a few seconds).\n";
        out += "# Keys marked CloudFormation need the same change in their stack's template.\n";
        out += "set -euo pipefail\n";
        let mut batch = 0;
        let mut account = "";
        for action in &self.actions {
            if action.batch != batch {
                batch = action.batch;
                out += &format!("\n# batch {batch}\n");
            }
            if action.account_id != account {
                account = &action.account_id;
                out += &format!("# account {account}\n");
            }
            if let Some(stack) = &action.managed_by_cloudformation {
                out += &format!(
                    "# CloudFormation stack {}: fix the template too\n",
                    comment(stack)
                );
            }
            out += &format!(
                "# priority {}: {}\n",
                action.priority,
                comment(&action.priority_reason)
            );
            out += &format!(
                "aws kms enable-key-rotation --key-id {} --region {} --rotation-period-in-days {}\n",
                quote(&action.target_arn),
                quote(&action.region),
                action.rotation_period_days.days()
            );
        }
        out += "\n# checks\n";
        for action in &self.actions {
            out += &format!(
                "aws kms get-key-rotation-status --key-id {} --region {}\n",
                quote(&action.target_arn),
                quote(&action.region)
            );
        }
        out
    }
}

/// A value made safe for a `#` comment line: no line breaks.
fn comment(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}
