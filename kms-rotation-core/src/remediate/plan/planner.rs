//! Planning: a pure function from a report and options to a [`Plan`]. No I/O, no clock unless
//! `generated_at` is left unset.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::priority::{Order, Priority};
use super::{Action, ActionKind, Plan, Skip, SkipReason};
use crate::finding::{Finding, Reason, Status};
use crate::model::{KeyArn, KeyState, SCHEMA_VERSION};
use crate::policy::RotationPeriod;
use crate::report::Report;
use crate::{Error, Result};

/// The tag CloudFormation puts on the resources of a stack.
pub const CLOUDFORMATION_STACK_TAG: &str = "aws:cloudformation:stack-name";

/// A tag `key=value`, as given on the command line and in every surface's options.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, schemars::JsonSchema)]
#[serde(try_from = "String")]
pub struct TagMatch {
    /// The tag's key.
    pub key: String,
    /// The value it must have, exactly.
    pub value: String,
}

impl TagMatch {
    /// A match of the tag `key` with the value `value`.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        TagMatch {
            key: key.into(),
            value: value.into(),
        }
    }

    /// `None` when the finding's tags were not read: unknown, not "no match".
    pub(super) fn matches(&self, finding: &Finding) -> Option<bool> {
        Some(finding.tags.as_ref()?.get(&self.key) == Some(self.value.as_str()))
    }
}

impl FromStr for TagMatch {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => Ok(TagMatch::new(key, value)),
            _ => Err(Error::invalid_input(format!(
                "`{s}` is not a tag match: expected KEY=VALUE"
            ))),
        }
    }
}

impl TryFrom<String> for TagMatch {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

/// Keys named by account, region, ARN, alias or tag. Within one dimension any entry may match;
/// see [`Selection`] for how dimensions combine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct KeyFilter {
    /// Account ids (12 digits).
    pub accounts: Vec<String>,
    /// Region names.
    pub regions: Vec<String>,
    /// Key ARNs.
    pub arns: Vec<String>,
    /// `alias/name`; the `alias/` prefix may be left out.
    pub aliases: Vec<String>,
    /// Tags, as `KEY=VALUE`.
    pub tags: Vec<TagMatch>,
}

/// A filter's answer for one finding: `Err(field)` when `field` matches on a fact (tags,
/// aliases) the finding does not have, so the answer is unknown. Never read unknown as "no".
type Answer = std::result::Result<bool, &'static str>;

/// Every answer is yes (unknown unless some answer is a known no).
fn all(answers: impl IntoIterator<Item = Answer>) -> Answer {
    let mut unknown = None;
    for answer in answers {
        match answer {
            Ok(false) => return Ok(false),
            Err(field) => {
                unknown.get_or_insert(field);
            }
            Ok(true) => {}
        }
    }
    unknown.map_or(Ok(true), Err)
}

/// Some answer is yes (unknown unless some answer is a known yes).
fn any(answers: impl IntoIterator<Item = Answer>) -> Answer {
    let mut unknown = None;
    for answer in answers {
        match answer {
            Ok(true) => return Ok(true),
            Err(field) => {
                unknown.get_or_insert(field);
            }
            Ok(false) => {}
        }
    }
    unknown.map_or(Ok(false), Err)
}

/// Which list a [`KeyFilter`] is: names the field in errors.
#[derive(Debug, Clone, Copy)]
enum Side {
    Include,
    Exclude,
}

impl Side {
    fn aliases_field(self) -> &'static str {
        match self {
            Side::Include => "selection.include.aliases",
            Side::Exclude => "selection.exclude.aliases",
        }
    }

    fn tags_field(self) -> &'static str {
        match self {
            Side::Include => "selection.include.tags",
            Side::Exclude => "selection.exclude.tags",
        }
    }
}

impl KeyFilter {
    /// Whether it names nothing.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
            && self.regions.is_empty()
            && self.arns.is_empty()
            && self.aliases.is_empty()
            && self.tags.is_empty()
    }

    /// One answer per dimension that has entries: does any entry of it match `finding`?
    fn answers(&self, finding: &Finding, side: Side) -> Vec<Answer> {
        let bare = |a: &str| a.strip_prefix("alias/").unwrap_or(a).to_owned();
        let mut answers = Vec::new();
        if !self.accounts.is_empty() {
            answers.push(Ok(self.accounts.contains(&finding.account_id)));
        }
        if !self.regions.is_empty() {
            answers.push(Ok(self.regions.contains(&finding.region)));
        }
        if !self.arns.is_empty() {
            answers.push(Ok(self.arns.contains(&finding.arn)));
        }
        if !self.aliases.is_empty() {
            answers.push(match &finding.aliases {
                Some(aliases) => Ok(self
                    .aliases
                    .iter()
                    .any(|wanted| aliases.iter().any(|a| bare(a) == bare(wanted)))),
                None => Err(side.aliases_field()),
            });
        }
        if !self.tags.is_empty() {
            answers.push(any(self
                .tags
                .iter()
                .map(|t| t.matches(finding).ok_or(side.tags_field()))));
        }
        answers
    }

    /// Any account, region or ARN entry names the key at `arn` (an exclude list, applied to the
    /// key a write would go to).
    fn names_target(&self, arn: &KeyArn<'_>, full: &str) -> bool {
        self.accounts.iter().any(|a| a == arn.account_id)
            || self.regions.iter().any(|r| r == arn.region)
            || self.arns.iter().any(|a| a == full)
    }

    /// The key at `arn` lies within the account and region entries (an include list, applied
    /// to the key a write would go to: including `eu-west-1` never writes to `us-east-1`).
    fn admits_target(&self, arn: &KeyArn<'_>) -> bool {
        (self.accounts.is_empty() || self.accounts.iter().any(|a| a == arn.account_id))
            && (self.regions.is_empty() || self.regions.iter().any(|r| r == arn.region))
    }
}

/// Which findings a plan may act on.
///
/// A finding is selected when it matches every non-empty dimension of `include` (an empty
/// `include` selects all) and no entry of `exclude`. Account and region entries (and excluded
/// ARNs) also apply to the key a write would go to: excluding `us-east-1`, or including only
/// `eu-west-1`, keeps the plan out of `us-east-1` even for a failing replica in `eu-west-1`
/// whose primary lives there.
///
/// Tag and alias entries need the finding's tags or aliases. Where they were not read, the
/// selection cannot be decided, and [`plan`] refuses rather than guess.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Selection {
    /// Keys the plan may act on; empty: every failing key.
    pub include: KeyFilter,
    /// Keys the plan must leave alone, whatever `include` says.
    pub exclude: KeyFilter,
}

impl Selection {
    fn selects(&self, finding: &Finding) -> Answer {
        // A known exclusion decides, whatever is unknown elsewhere.
        match any(self.exclude.answers(finding, Side::Exclude)) {
            Ok(true) => return Ok(false),
            Ok(false) => {}
            Err(field) => {
                return match all(self.include.answers(finding, Side::Include)) {
                    Ok(false) => Ok(false),
                    _ => Err(field),
                };
            }
        }
        all(self.include.answers(finding, Side::Include))
    }

    /// Whether a write may go to the key at `arn` (a replica's primary, say).
    fn admits_target(&self, arn: &KeyArn<'_>, full: &str) -> bool {
        self.include.admits_target(arn) && !self.exclude.names_target(arn, full)
    }
}

/// Options of [`plan`]. The defaults take everything from the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// The period to set; `None`: the report policy's `target_rotation_period_days`. Checked
    /// against 90-2560 and the policy's maximum.
    pub target_period_days: Option<u32>,
    /// Priority rules, most urgent first; a key gets the rank of the first rule it matches.
    /// Default: [`Priority::defaults`] (public, cross-account, production, the rest).
    pub priorities: Vec<Priority>,
    /// Actions per batch; at least 1.
    pub batch_size: usize,
    /// Which failing keys the plan may act on.
    pub selection: Selection,
    /// The plan's `generated_at`; the clock when unset.
    pub now: Option<DateTime<Utc>>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            target_period_days: None,
            priorities: Priority::defaults(),
            batch_size: 50,
            selection: Selection::default(),
            now: None,
        }
    }
}

impl PlanOptions {
    /// Checks what can be checked without the report (the period against the policy's maximum
    /// is checked by [`plan`]).
    pub fn validate(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::invalid_input("must be at least 1").with_field("batch_size"));
        }
        if let Some(days) = self.target_period_days {
            RotationPeriod::new(days).map_err(|e| e.with_field("target_period_days"))?;
        }
        Ok(())
    }
}

/// Plans the remediation of `report` (`rule.md`, "Remediation, per finding").
///
/// Every finding ends up either in exactly one action's `because` or in `skips`. A failing
/// replica becomes an action on its primary, once, even when the primary's region was not
/// scanned. Options are checked before anything else.
///
/// Fails closed: when a tag or alias filter cannot be decided for a key the plan would act on
/// (its tags or aliases were not read), the plan is refused with an error naming the option
/// (`selection.exclude.tags`...) and the keys. A priority rule that cannot be decided ranks the
/// key as if it matched, and the action's `priority_reason` says so (see [`Priority`]).
///
/// ```
/// use kms_rotation::remediate::{plan, PlanOptions};
/// use kms_rotation::{InventorySource, KeySourceExt, ScanRequest};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let source = InventorySource::from_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/fleet.json"))?;
/// let report = source.scan(&ScanRequest::default()).await?;
/// let plan = plan(&report, &PlanOptions::default())?;
/// assert!(!plan.actions.is_empty());
/// # Ok::<(), kms_rotation::Error>(())
/// # }).unwrap();
/// ```
pub fn plan(report: &Report, options: &PlanOptions) -> Result<Plan> {
    let target = target_period(report, options)?;
    if options.batch_size == 0 {
        return Err(Error::invalid_input("must be at least 1").with_field("batch_size"));
    }
    let by_arn: HashMap<&str, &Finding> = report
        .findings
        .iter()
        .map(|f| (f.arn.as_str(), f))
        .collect();

    let mut skips = Vec::new();
    let mut undecided = Undecided::default();
    // Keyed by target ARN: replicas and their primary merge into one action.
    let mut pending: BTreeMap<&str, Pending<'_>> = BTreeMap::new();
    for finding in &report.findings {
        match decide(finding, &by_arn, &options.selection) {
            Decision::Skip(reason) => skips.push(Skip {
                arn: finding.arn.clone(),
                reason,
            }),
            Decision::Unknown(field) => undecided.add(field, &finding.arn),
            Decision::Act(target_arn, arn) => pending
                .entry(target_arn)
                .or_insert_with(|| Pending {
                    region: arn.region,
                    account_id: arn.account_id,
                    findings: Vec::new(),
                })
                .findings
                .push(finding),
        }
    }

    undecided.check()?;

    let order = Order::new(&options.priorities);
    let mut actions: Vec<Action> = pending
        .into_iter()
        .map(|(target_arn, p)| p.into_action(target_arn, target, &order))
        .collect();
    // Priority first, then a stable order a reviewer can follow.
    actions.sort_by(|a, b| {
        (a.priority, &a.account_id, &a.region, &a.target_arn).cmp(&(
            b.priority,
            &b.account_id,
            &b.region,
            &b.target_arn,
        ))
    });
    for (i, action) in actions.iter_mut().enumerate() {
        action.batch = i / options.batch_size + 1;
    }

    let mut policy = report.policy.clone();
    policy.target_rotation_period_days = target;
    Ok(Plan {
        schema_version: SCHEMA_VERSION,
        generated_at: options.now.unwrap_or_else(Utc::now),
        policy,
        actions,
        skips,
    })
}

/// The period the actions set: from the options or the report's policy, within 90-2560 and not
/// above the policy's maximum (a fix that still fails is no fix).
fn target_period(report: &Report, options: &PlanOptions) -> Result<RotationPeriod> {
    let field = "target_rotation_period_days";
    let target = match options.target_period_days {
        Some(days) => RotationPeriod::new(days).map_err(|e| e.with_field(field))?,
        None => report.policy.target_rotation_period_days,
    };
    let max = report.policy.max_rotation_period_days;
    if target > max {
        return Err(Error::invalid_input(format!(
            "{target} is above the policy's max_rotation_period_days ({max}): the fixed keys would still fail"
        ))
        .with_field(field));
    }
    Ok(target)
}

enum Decision<'a> {
    Skip(SkipReason),
    /// Act on this target ARN (parsed).
    Act(&'a str, KeyArn<'a>),
    /// The selection's `field` needs a fact the finding lacks.
    Unknown(&'static str),
}

/// Keys whose selection or priority could not be decided, by the option that needs them.
#[derive(Default)]
struct Undecided<'a> {
    by_field: BTreeMap<&'static str, Vec<&'a str>>,
}

impl<'a> Undecided<'a> {
    fn add(&mut self, field: &'static str, arn: &'a str) {
        self.by_field.entry(field).or_default().push(arn);
    }

    /// Refuses the plan when any key is undecided: acting on it could write to a key the
    /// user excluded, or in the wrong order.
    fn check(&self) -> Result<()> {
        const SHOWN: usize = 5;
        let Some((field, arns)) = self.by_field.iter().next() else {
            return Ok(());
        };
        let fact = if field.ends_with("aliases") {
            "aliases"
        } else {
            "tags"
        };
        let mut listed = arns
            .iter()
            .take(SHOWN)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if arns.len() > SHOWN {
            listed.push_str(&format!(" and {} more", arns.len() - SHOWN));
        }
        Err(Error::invalid_input(format!(
            "cannot be decided for {} key(s) the plan would act on, whose {fact} were not read \
             (or could not be read): {listed}. Re-scan reading every key's {fact} (tags: the \
             scan's all-tags option) and plan from that report",
            arns.len()
        ))
        .with_field(*field))
    }
}

fn decide<'a>(
    finding: &'a Finding,
    by_arn: &HashMap<&str, &Finding>,
    selection: &Selection,
) -> Decision<'a> {
    if let Some(reason) = skip_reason(finding) {
        return Decision::Skip(reason);
    }
    match selection.selects(finding) {
        Ok(true) => {}
        Ok(false) => return Decision::Skip(SkipReason::Excluded),
        Err(field) => return Decision::Unknown(field),
    }
    let Some(target_arn) = finding.remediation_target.as_deref() else {
        return Decision::Skip(SkipReason::NoRemediationTarget);
    };
    let Ok(arn) = KeyArn::parse(target_arn) else {
        return Decision::Skip(SkipReason::NoRemediationTarget);
    };
    if !selection.admits_target(&arn, target_arn) {
        return Decision::Skip(SkipReason::Excluded);
    }
    // A replica's fix lands on its primary: if the same report judged the primary, its verdict
    // (exempt, disabled, unreadable, passing) governs the write.
    if target_arn != finding.arn
        && let Some(primary) = by_arn.get(target_arn)
    {
        match skip_reason(primary) {
            Some(SkipReason::Passing) => return Decision::Skip(SkipReason::PrimaryPassing),
            Some(reason) => return Decision::Skip(reason),
            None => {}
        }
    }
    Decision::Act(target_arn, arn)
}

/// Why the rule's verdict on `finding` alone allows no action; `None` when it does.
fn skip_reason(finding: &Finding) -> Option<SkipReason> {
    match finding.status {
        Status::Pass => Some(SkipReason::Passing),
        Status::Exempt => Some(SkipReason::Exempt),
        Status::NotApplicable => Some(SkipReason::NotApplicable),
        Status::Error => Some(SkipReason::ErrorRescanFirst),
        Status::Fail if finding.remediable => None,
        Status::Fail => Some(match finding.reason {
            Reason::ImportedKeyRotationOverdue => SkipReason::ImportedKey,
            _ if finding.key_state == Some(KeyState::Disabled) => SkipReason::KeyDisabled,
            Reason::RotationDisabled | Reason::RotationPeriodExceedsPolicy => {
                SkipReason::NoRemediationTarget
            }
            _ => SkipReason::NotRemediable,
        }),
    }
}

/// An action being gathered: the findings that lead to one target.
struct Pending<'a> {
    region: &'a str,
    account_id: &'a str,
    findings: Vec<&'a Finding>,
}

impl Pending<'_> {
    fn into_action(self, target_arn: &str, period: RotationPeriod, order: &Order<'_>) -> Action {
        // The target's own finding first, so its tags decide before its replicas'.
        let mut findings = self.findings;
        findings.sort_by_key(|f| (f.arn != target_arn, f.arn.as_str()));
        // The most urgent rank of its findings decides (the target's own on a tie).
        let (priority, priority_reason) = findings
            .iter()
            .map(|f| order.rank(f))
            .min_by_key(|(rank, _)| *rank)
            .unwrap_or_else(|| order.unranked());
        let managed_by_cloudformation = findings.iter().find_map(|f| {
            f.tags
                .as_ref()
                .and_then(|tags| tags.get(CLOUDFORMATION_STACK_TAG).map(str::to_owned))
        });
        Action {
            action: ActionKind::EnableRotation,
            target_arn: target_arn.to_owned(),
            region: self.region.to_owned(),
            account_id: self.account_id.to_owned(),
            rotation_period_days: period,
            batch: 1,
            priority,
            priority_reason,
            because: findings.iter().map(|f| f.arn.clone()).collect(),
            managed_by_cloudformation,
        }
    }
}
