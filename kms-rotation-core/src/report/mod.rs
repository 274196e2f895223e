//! The report: every finding in a stable order, a summary, and what could not be scanned; and
//! its renderings.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::document;
use crate::finding::{Finding, Reason, Status};
use crate::model::ScopeError;
use crate::model::{KeyRecord, SCHEMA_VERSION};
use crate::policy::Policy;
use crate::rule;
use crate::source::Shard;
use crate::{Error, Result};

pub(crate) mod asff;
pub use merge::{SHARD_MISSING, merge};
mod csv;
mod html;
pub(crate) mod markdown;
mod merge;
mod ocsf;
mod sarif;

/// What a report covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReportScope {
    /// The source's name: `aws`, `inventory`, `memory`.
    pub source: String,
    /// The accounts covered.
    pub accounts: Vec<String>,
    /// The regions covered.
    pub regions: Vec<String>,
    /// The part of a split scan this report is (`--shard i/n`, 0-based): of the accounts and
    /// regions above, it covers only the pairs of this shard. Absent: every pair. `merge` of
    /// every part gives a report without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
}

impl ReportScope {
    /// Whether the accounts and regions covered include `account` in `region` (an empty list
    /// covers every one), and the pair is the report's shard's. A key outside them may exist
    /// unseen: the report says nothing of it.
    pub fn covers(&self, account: &str, region: &str) -> bool {
        let has = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        has(&self.accounts, account)
            && has(&self.regions, region)
            && self.shard.is_none_or(|shard| shard.owns(account, region))
    }
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
        *self.get_mut(status) += 1;
    }

    fn get_mut(&mut self, status: Status) -> &mut usize {
        match status {
            Status::Pass => &mut self.pass,
            Status::Fail => &mut self.fail,
            Status::NotApplicable => &mut self.not_applicable,
            Status::Exempt => &mut self.exempt,
            Status::Error => &mut self.error,
        }
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
        // Findings come grouped by account and region (report order): each run of one region
        // or account is counted apart and added to its entry once, not looked up per finding.
        let mut region = Run::default();
        let mut account = Run::default();
        for f in findings {
            summary.by_status.add(f.status);
            *summary.by_reason.entry(f.reason).or_default() += 1;
            region.count(&mut summary.by_region, &f.region, f.status);
            account.count(&mut summary.by_account, &f.account_id, f.status);
        }
        region.end(&mut summary.by_region);
        account.end(&mut summary.by_account);
        summary.compliant = summary.by_status.fail == 0;
        summary.complete = scope_errors.is_empty();
        summary
    }
}

/// Findings in a row with the same region (or account), counted until the next one differs.
#[derive(Default)]
struct Run<'a> {
    key: &'a str,
    counts: StatusCounts,
}

impl<'a> Run<'a> {
    fn count(&mut self, totals: &mut BTreeMap<String, StatusCounts>, key: &'a str, status: Status) {
        if key != self.key {
            self.end(totals);
            self.key = key;
        }
        self.counts.add(status);
    }

    /// Adds the run to its entry in `totals`, allocating the key only the first time.
    fn end(&mut self, totals: &mut BTreeMap<String, StatusCounts>) {
        let counts = std::mem::take(&mut self.counts);
        if counts.total == 0 {
            return;
        }
        let entry = match totals.get_mut(self.key) {
            Some(entry) => entry,
            None => totals.entry(self.key.to_owned()).or_default(),
        };
        for status in Status::ALL {
            *entry.get_mut(status) += counts.get(status);
        }
        entry.total += counts.total;
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
        // Evaluating the records in report order yields findings already in place: moving a
        // million large findings into place afterwards costs more than evaluating them.
        let findings = report_order(records)
            .into_iter()
            .map(|i| rule::evaluate(&records[i], &policy, now))
            .collect();
        Report::in_order(findings, policy, scope, scope_errors, now)
    }

    /// [`Report::evaluate`] of records the caller no longer needs: each record's evidence moves
    /// into its finding instead of being copied.
    pub fn from_records(
        records: Vec<KeyRecord>,
        policy: Policy,
        scope: ReportScope,
        scope_errors: Vec<ScopeError>,
        now: DateTime<Utc>,
    ) -> Self {
        let order = report_order(&records);
        let mut records: Vec<Option<KeyRecord>> = records.into_iter().map(Some).collect();
        // Room for every finding from the start: a list that doubles as it grows frees a buffer
        // half its size each time, which an allocator may hold a while (mimalloc by default
        // for a second) when the list is the largest thing in memory.
        let mut findings = Vec::with_capacity(records.len());
        findings.extend(
            (order.into_iter())
                .filter_map(|i| records[i].take())
                .map(|record| rule::evaluate_owned(record, &policy, now)),
        );
        Report::in_order(findings, policy, scope, scope_errors, now)
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
            sort_in_place(&mut findings);
        }
        Report::in_order(findings, policy, scope, scope_errors, generated_at)
    }

    /// [`Report::new`] of findings known to be in report order.
    pub(crate) fn in_order(
        findings: Vec<Finding>,
        policy: Policy,
        scope: ReportScope,
        scope_errors: Vec<ScopeError>,
        generated_at: DateTime<Utc>,
    ) -> Self {
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
    /// `exception`, `error`, and what is derived from them: `severity`, `controls`, `message`)
    /// differs from the recomputed one: the file was edited, or made by a
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
        document::write(out, "the report", |out| match format {
            Format::Json => document::json(out, self),
            Format::Ndjson => self.findings.iter().try_for_each(|finding| {
                serde_json::to_writer(&mut *out, finding).map_err(std::io::Error::from)?;
                out.write_all(b"\n")
            }),
            Format::Csv => self::csv::write(&self.findings, out),
            Format::Markdown => markdown::write(self, out),
            Format::Asff => asff::write(self, out),
            Format::Sarif => sarif::write(self, out),
            Format::Ocsf => ocsf::write(self, out),
            Format::Html => html::write(self, out),
        })
    }

    /// The report in `format`, as a string.
    pub fn render_to_string(&self, format: Format) -> Result<String> {
        document::to_string(|out| self.render(format, out))
    }
}

/// The headline: a known failure is NOT compliant even in an incomplete report; without one,
/// an incomplete report cannot be called compliant.
fn verdict(report: &Report) -> &'static str {
    if !report.summary.compliant {
        "NOT compliant"
    } else if !report.summary.complete {
        "INCOMPLETE"
    } else {
        "compliant"
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
    } else if stored.severity != recomputed.severity {
        Some("severity")
    } else if stored.controls != recomputed.controls {
        Some("controls")
    } else if stored.message != recomputed.message {
        Some("message")
    } else {
        None
    }
}

/// The indices of `records` in report order: account, region, ARN (ties keep their order).
///
/// Sorting a hundred thousand keys is bound by memory, not by comparing: a comparison that has
/// to read two ARNs misses the cache twice. So accounts and regions are ranked first (two
/// integers), and the ARNs of one account and region, which share a long prefix
/// (`arn:aws:kms:REGION:ACCOUNT:key/`), are told apart by the 16 bytes after the prefix they
/// all share, kept in the key: most comparisons read no string at all.
fn report_order(records: &[KeyRecord]) -> Vec<usize> {
    // One pass over the records for their accounts, regions and shared ARN prefixes, and one
    // for the keys: each pass costs about a cache miss per record.
    let mut accounts = Names::default();
    let mut regions = Names::default();
    let mut shared: HashMap<(u32, u32), &[u8]> = HashMap::new();
    let groups: Vec<(u32, u32)> = records
        .iter()
        .map(|record| {
            let group = (accounts.id(&record.account_id), regions.id(&record.region));
            let arn = record.arn.as_bytes();
            shared
                .entry(group)
                .and_modify(|prefix| {
                    if !arn.starts_with(prefix) {
                        let common = prefix.iter().zip(arn).take_while(|(a, b)| a == b).count();
                        *prefix = &prefix[..common];
                    }
                })
                .or_insert(arn);
            group
        })
        .collect();
    let (account_ranks, region_ranks) = (accounts.ranks(), regions.ranks());
    let mut keys: Vec<((u32, u32), u128, &str, usize)> = records
        .iter()
        .zip(groups)
        .enumerate()
        .map(|(i, (record, group))| {
            let skip = shared.get(&group).map_or(0, |prefix| prefix.len());
            let ranks = (
                account_ranks[group.0 as usize],
                region_ranks[group.1 as usize],
            );
            let arn = record.arn.as_str();
            (ranks, head(&arn.as_bytes()[skip..]), arn, i)
        })
        .collect();
    // The index makes every key distinct: an unstable sort keeps ties in their order.
    keys.sort_unstable();
    keys.into_iter().map(|(.., i)| i).collect()
}

/// Puts `findings` in report order in place (no second list of findings: each is large) and
/// returns where each one was: `from[k]` is the old position of the finding now at `k`. Ties
/// (a key listed twice) keep their order.
pub(crate) fn sort_in_place(findings: &mut [Finding]) -> Vec<usize> {
    // A comparison reads two findings, but the list of positions is all it allocates: this
    // runs when every finding of the scan is in memory.
    let mut from: Vec<usize> = (0..findings.len()).collect();
    from.sort_unstable_by_key(|&i| (report_key(&findings[i]), i));
    permute(findings, &from);
    from
}

/// What orders the report: account, region, ARN.
fn report_key(finding: &Finding) -> (&str, &str, &str) {
    (&finding.account_id, &finding.region, &finding.arn)
}

/// Moves `items[from[k]]` to `k` for every `k`, in place: each cycle of the permutation is
/// followed, swapping each item into its place.
fn permute<T>(items: &mut [T], from: &[usize]) {
    // `done` marks the places already filled.
    let mut done = vec![false; items.len()];
    for start in 0..items.len() {
        let mut at = start;
        while !done[at] {
            done[at] = true;
            let source = from[at];
            if source == start {
                break;
            }
            items.swap(at, source);
            at = source;
        }
    }
}

/// Distinct names (accounts, regions), numbered as first seen, then ranked in sorted order.
#[derive(Default)]
struct Names<'a> {
    ids: HashMap<&'a str, u32>,
    last: Option<(&'a str, u32)>,
}

impl<'a> Names<'a> {
    /// The number of `name`, looked up only when it is not the name before it again (records
    /// usually come grouped).
    fn id(&mut self, name: &'a str) -> u32 {
        if let Some((last, id)) = self.last
            && last == name
        {
            return id;
        }
        let next = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        let id = *self.ids.entry(name).or_insert(next);
        self.last = Some((name, id));
        id
    }

    /// Each number's rank among the names in sorted order.
    fn ranks(self) -> Vec<u32> {
        let mut sorted: Vec<(&str, u32)> = self.ids.into_iter().collect();
        sorted.sort_unstable();
        let mut ranks = vec![0; sorted.len()];
        for (rank, (_, id)) in (0..).zip(sorted) {
            ranks[id as usize] = rank;
        }
        ranks
    }
}

/// The first 16 bytes of `bytes`, zero-padded, as a number that sorts as they do. Equal heads
/// leave the order to the whole ARN, which comes next in the key.
fn head(bytes: &[u8]) -> u128 {
    let mut head = [0; 16];
    for (to, from) in head.iter_mut().zip(bytes) {
        *to = *from;
    }
    u128::from_be_bytes(head)
}

fn is_in_report_order(findings: &[Finding]) -> bool {
    findings.is_sorted_by_key(report_key)
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
    /// One row per finding under a fixed header (docs/formats.md), for spreadsheets.
    Csv,
    /// For a pull request or a ticket: the verdict, the counts, and the keys that need
    /// attention.
    Markdown,
    /// AWS Security Finding Format: a JSON array of the findings Security Hub's
    /// BatchImportFindings takes, one per key (docs/formats.md).
    Asff,
    /// SARIF 2.1.0, for code scanning: one rule per reason code, one result per key that needs
    /// attention (docs/formats.md).
    Sarif,
    /// OCSF 1.8.0 Compliance Findings, one per finding, as a JSON array: for Security Lake and
    /// SIEMs (docs/formats.md).
    Ocsf,
    /// One self-contained page for people: the verdict and counts, charts per region and per
    /// account, and every finding in a table that sorts and filters, with the fix commands.
    Html,
}
crate::wire::wire_names!(Format, "format");

impl Format {
    /// The file name endings of the format, most specific first: a path's format is that of
    /// the longest ending it has (`x.asff.json` is ASFF, `x.json` JSON).
    pub fn suffixes(self) -> &'static [&'static str] {
        match self {
            Format::Json => &[".json"],
            Format::Ndjson => &[".ndjson", ".jsonl"],
            Format::Csv => &[".csv"],
            Format::Markdown => &[".md", ".markdown"],
            Format::Asff => &[".asff.json", ".asff"],
            Format::Sarif => &[".sarif", ".sarif.json"],
            Format::Ocsf => &[".ocsf.json", ".ocsf"],
            Format::Html => &[".html", ".htm"],
        }
    }

    /// The format a file name asks for by its ending (case-insensitive), if any.
    pub fn for_path(path: &std::path::Path) -> Option<Format> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        Format::ALL
            .iter()
            .flat_map(|f| f.suffixes().iter().map(move |s| (*f, *s)))
            .filter(|(_, suffix)| name.ends_with(suffix) && name.len() > suffix.len())
            .max_by_key(|(_, suffix)| suffix.len())
            .map(|(format, _)| format)
    }

    /// [`Format::for_path`], or an error naming the endings it knows.
    pub fn for_path_or_error(path: &std::path::Path) -> Result<Format> {
        Format::for_path(path).ok_or_else(|| {
            let known: Vec<&str> = Format::ALL
                .iter()
                .flat_map(|f| f.suffixes().iter().copied())
                .collect();
            Error::invalid_input(format!(
                "cannot tell the report format from the file name: name the format, or end \
                 the name with one of {}",
                known.join(", ")
            ))
            .with_file(path)
        })
    }
}
