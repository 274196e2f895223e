//! The report: every finding in a stable order, a summary, and what could not be scanned; and
//! its renderings.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Reason, Status};
use crate::model::ScopeError;
use crate::model::{KeyRecord, SCHEMA_VERSION};
use crate::policy::Policy;
use crate::rule;
use crate::{Error, ErrorKind, Result};

/// What a report covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReportScope {
    /// The source's name: `aws`, `inventory`, `memory`.
    pub source: String,
    /// The accounts covered.
    pub accounts: Vec<String>,
    /// The regions covered.
    pub regions: Vec<String>,
}

/// Findings counted by status.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct StatusCounts {
    /// Every finding counted.
    pub total: usize,
    /// Findings `pass`.
    pub pass: usize,
    /// Findings `fail`.
    pub fail: usize,
    /// Findings `not_applicable`.
    pub not_applicable: usize,
    /// Findings `exempt`.
    pub exempt: usize,
    /// Findings `error`.
    pub error: usize,
}

impl StatusCounts {
    fn add(&mut self, status: Status) {
        self.total += 1;
        *match status {
            Status::Pass => &mut self.pass,
            Status::Fail => &mut self.fail,
            Status::NotApplicable => &mut self.not_applicable,
            Status::Exempt => &mut self.exempt,
            Status::Error => &mut self.error,
        } += 1;
    }

    /// The count of `status`.
    pub fn get(&self, status: Status) -> usize {
        match status {
            Status::Pass => self.pass,
            Status::Fail => self.fail,
            Status::NotApplicable => self.not_applicable,
            Status::Exempt => self.exempt,
            Status::Error => self.error,
        }
    }
}

/// The summary of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// True exactly when no finding is `fail`.
    pub compliant: bool,
    /// False when a region or account could not be listed (see `scope_errors`).
    pub complete: bool,
    /// Counts per status, and the total.
    pub by_status: StatusCounts,
    /// Counts per reason code, for the reasons that occur.
    pub by_reason: BTreeMap<Reason, usize>,
    /// Counts per status (and the total) for each region.
    pub by_region: BTreeMap<String, StatusCounts>,
    /// Counts per status (and the total) for each account.
    pub by_account: BTreeMap<String, StatusCounts>,
}

impl Summary {
    /// The summary of `findings`; complete when `scope_errors` is empty.
    pub fn of(findings: &[Finding], scope_errors: &[ScopeError]) -> Self {
        let mut summary = Summary::default();
        for f in findings {
            summary.by_status.add(f.status);
            *summary.by_reason.entry(f.reason).or_default() += 1;
            count_in(&mut summary.by_region, &f.region, f.status);
            count_in(&mut summary.by_account, &f.account_id, f.status);
        }
        summary.compliant = summary.by_status.fail == 0;
        summary.complete = scope_errors.is_empty();
        summary
    }
}

/// Counts `status` under `key`, allocating the key only the first time it is seen.
fn count_in(counts: &mut BTreeMap<String, StatusCounts>, key: &str, status: Status) {
    match counts.get_mut(key) {
        Some(entry) => entry.add(status),
        None => counts.entry(key.to_owned()).or_default().add(status),
    }
}

/// A scan's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    /// The format's version: `1`. Another version is refused, not misread.
    pub schema_version: u32,
    /// The time the findings were evaluated at (UTC): the clock, or the `now` asked for.
    pub generated_at: DateTime<Utc>,
    /// The whole policy the keys were judged against, exceptions included.
    pub policy: Policy,
    /// The source, and the accounts and regions covered.
    pub scope: ReportScope,
    /// Counts, and whether the report is compliant and complete.
    pub summary: Summary,
    /// Ordered by account, region, ARN.
    pub findings: Vec<Finding>,
    /// Each region or account that could not be listed at all; the report is then incomplete.
    pub scope_errors: Vec<ScopeError>,
}

impl Report {
    /// Evaluates `records` and builds the report.
    pub fn evaluate(
        records: &[KeyRecord],
        policy: Policy,
        scope: ReportScope,
        scope_errors: Vec<ScopeError>,
        now: DateTime<Utc>,
    ) -> Self {
        // Ordering the records (references) first yields findings already in report order:
        // moving a million large findings into place afterwards costs more than evaluating them.
        let mut ordered: Vec<&KeyRecord> = records.iter().collect();
        ordered.sort_by_cached_key(|r| report_order(&r.account_id, &r.region, &r.arn));
        let findings = rule::evaluate_all(ordered, &policy, now);
        Report::new(findings, policy, scope, scope_errors, now)
    }

    /// Builds a report from findings: sorts them and computes the summary.
    pub fn new(
        mut findings: Vec<Finding>,
        policy: Policy,
        scope: ReportScope,
        scope_errors: Vec<ScopeError>,
        generated_at: DateTime<Utc>,
    ) -> Self {
        if !is_in_report_order(&findings) {
            findings.sort_by_cached_key(|f| report_order(&f.account_id, &f.region, &f.arn));
        }
        let summary = Summary::of(&findings, &scope_errors);
        Report {
            schema_version: SCHEMA_VERSION,
            generated_at,
            policy,
            scope,
            summary,
            findings,
            scope_errors,
        }
    }

    /// Reads a saved report (`scan --format json`) that something will act on, such as a plan.
    /// A report is a file a user may have edited, so nothing in it is trusted that can be
    /// recomputed: see [`Report::rechecked`]. Errors name the file and the field.
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let report: Report = crate::input::read_file(path)?;
        report.rechecked().map_err(|e| e.with_file(path))
    }

    /// The report with every verdict recomputed from its evidence, under its own policy and as
    /// of its `generated_at`, and its summary recomputed from the findings and scope errors.
    ///
    /// Refused: another schema version, an invalid policy, a key listed twice, and any finding
    /// whose stored verdict (`status`, `reason`, `remediable`, `remediation_target`,
    /// `exception`, `error`) differs from the recomputed one: the file was edited, or made by a
    /// release with another rule, and acting on it could write where the rule says not to.
    pub fn rechecked(self) -> Result<Self> {
        crate::model::check_schema_version(self.schema_version)?;
        self.policy.validate_embedded()?;
        let mut seen = std::collections::HashSet::new();
        let mut findings = Vec::with_capacity(self.findings.len());
        for (i, stored) in self.findings.iter().enumerate() {
            if !seen.insert(stored.arn.as_str()) {
                return Err(Error::invalid_input(format!(
                    "`{}` has more than one finding",
                    stored.arn
                ))
                .with_field(format!("findings[{i}].arn")));
            }
            let record = stored.to_record();
            let recomputed = rule::evaluate(&record, &self.policy, self.generated_at);
            if let Some(field) = verdict_mismatch(stored, &recomputed) {
                return Err(Error::invalid_input(format!(
                    "the report says `{}` / `{}` for `{}`, but its evidence gives `{}` / `{}` \
                     ({field} differs): the file was edited or made by another release; re-scan",
                    stored.status, stored.reason, stored.arn, recomputed.status, recomputed.reason
                ))
                .with_field(format!("findings[{i}].{field}")));
            }
            findings.push(recomputed);
        }
        Ok(Report::new(
            findings,
            self.policy,
            self.scope,
            self.scope_errors,
            self.generated_at,
        ))
    }

    /// True exactly when no finding is `fail`.
    pub fn is_compliant(&self) -> bool {
        self.summary.compliant
    }

    /// False when some region or account could not be listed (see `scope_errors`).
    pub fn is_complete(&self) -> bool {
        self.summary.complete
    }

    /// Writes the report in `format`.
    pub fn render(&self, format: Format, out: &mut dyn Write) -> Result<()> {
        let written = match format {
            Format::Json => serde_json::to_writer_pretty(&mut *out, self)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n")),
            Format::Ndjson => self.findings.iter().try_for_each(|finding| {
                serde_json::to_writer(&mut *out, finding).map_err(std::io::Error::from)?;
                out.write_all(b"\n")
            }),
        };
        written.and_then(|()| out.flush()).map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("cannot write the report: {e}"),
            )
        })
    }

    /// The report in `format`, as a string.
    pub fn render_to_string(&self, format: Format) -> Result<String> {
        let mut buffer = Vec::new();
        self.render(format, &mut buffer)?;
        String::from_utf8(buffer).map_err(|e| Error::new(ErrorKind::Unexpected, e.to_string()))
    }
}

/// The first verdict field in which `stored` and `recomputed` differ.
fn verdict_mismatch(stored: &Finding, recomputed: &Finding) -> Option<&'static str> {
    if stored.status != recomputed.status {
        Some("status")
    } else if stored.reason != recomputed.reason {
        Some("reason")
    } else if stored.remediable != recomputed.remediable {
        Some("remediable")
    } else if stored.remediation_target != recomputed.remediation_target {
        Some("remediation_target")
    } else if stored.exception != recomputed.exception {
        Some("exception")
    } else if stored.error != recomputed.error {
        Some("error")
    } else {
        None
    }
}

/// The order of findings in a report: account, region, ARN. Sorts compute it once per item
/// (`sort_by_cached_key`): one contiguous key keeps a comparison from chasing three heap
/// pointers per side, which is memory-bound at a million keys.
fn report_order(account_id: &str, region: &str, arn: &str) -> String {
    format!("{account_id}\0{region}\0{arn}")
}

fn is_in_report_order(findings: &[Finding]) -> bool {
    findings.is_sorted_by(|a, b| {
        (&a.account_id, &a.region, &a.arn) <= (&b.account_id, &b.region, &b.arn)
    })
}

/// Report renderings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
#[non_exhaustive]
pub enum Format {
    /// The whole report, pretty-printed.
    Json,
    /// One finding per line and nothing else, in the report's order.
    Ndjson,
}
crate::wire::wire_names!(Format, "format");
