//! Progress between two scans: which keys were fixed, regressed, lapsed out of an exception,
//! appeared failing, disappeared, or could not be compared. Pure: no I/O, no clock.
//!
//! Fail closed: a key one report has and the other lacks, where the other report could not list
//! that account or region (a scope error covers it), is `not_compared`, never `gone` nor
//! `new_failing`; so is a key of the old report in an account or region the new scan did not
//! cover; and a key that could not be read before (`error`) and fails now counts as
//! `new_failing`, since nobody knew it failed.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::finding::{AppliedException, Finding, Reason, Status};
use crate::model::ScopeError;
use crate::report::Report;

mod render;

pub use render::DiffFormat;

/// One key whose verdict moved between the two reports (or that only one report has).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct KeyChange {
    /// The key's ARN: what the two reports are matched by.
    pub arn: String,
    /// The account that owns the key.
    pub account_id: String,
    /// The key's region.
    pub region: String,
    /// The key id.
    pub key_id: String,
    /// Its status in the old report; `None` when the old report does not have the key.
    pub old_status: Option<Status>,
    /// Its status in the new report; `None` when the new report does not have the key.
    pub new_status: Option<Status>,
    /// Its reason code in the old report; `None` when the old report does not have the key.
    pub old_reason: Option<Reason>,
    /// Its reason code in the new report; `None` when the new report does not have the key.
    pub new_reason: Option<Reason>,
    /// The exception attached to the new finding, else the one attached to the old finding (an
    /// exception removed since): who accepted the risk, and until when.
    pub exception: Option<AppliedException>,
}

/// How many keys are in each category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DiffCounts {
    /// `fail`, `exempt` or `error` before, `pass` now.
    pub fixed: usize,
    /// `pass` or `not_applicable` before, `fail` now.
    pub regressed: usize,
    /// `exempt` before, `fail` now: the exception expired or was removed.
    pub lapsed: usize,
    /// `fail` now, and not known to fail before: absent from the old report, or `error` in it.
    pub new_failing: usize,
    /// `exempt` now, and not before (absent, or any other status).
    pub newly_exempt: usize,
    /// `error` now, and not before (absent, or any other status): it cannot be checked now.
    pub now_error: usize,
    /// In the old report, not in the new one, whose scan listed the key's account and region.
    pub gone: usize,
    /// In one report only, where the other could not list the key's account or region.
    pub not_compared: usize,
    /// `fail` in both reports.
    pub still_failing: usize,
}

/// The counts of one account in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct AccountRegionCounts {
    /// The account.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// The counts of its keys.
    #[serde(flatten)]
    pub counts: DiffCounts,
}

/// What the diff says about one of the two reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DiffSide {
    /// The report's `generated_at`.
    pub generated_at: DateTime<Utc>,
    /// False when the report could not list some account or region (its `scope_errors`).
    pub complete: bool,
}

/// The progress between an old and a new report. Every list is ordered by account, region, ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ReportDiff {
    /// The old report.
    pub old: DiffSide,
    /// The new report.
    pub new: DiffSide,
    /// True when any key regressed, lapsed or is newly failing: things got worse.
    pub worse: bool,
    /// True when the two reports embed different policies (exceptions included): a verdict may
    /// have changed because the policy did, not the key.
    pub policy_changed: bool,
    /// The counts of every category, over all keys.
    pub counts: DiffCounts,
    /// The counts per account and region, for those with any key counted; ordered by account,
    /// region.
    pub by_account_region: Vec<AccountRegionCounts>,
    /// Keys fixed: `fail`, `exempt` or `error` before, `pass` now.
    pub fixed: Vec<KeyChange>,
    /// Keys regressed: `pass` or `not_applicable` before, `fail` now.
    pub regressed: Vec<KeyChange>,
    /// Keys whose exception lapsed: `exempt` before, `fail` now.
    pub lapsed: Vec<KeyChange>,
    /// Keys failing now and not known to fail before (absent from the old report, or `error`).
    pub new_failing: Vec<KeyChange>,
    /// Keys `exempt` now and not before.
    pub newly_exempt: Vec<KeyChange>,
    /// Keys `error` now and not before: they cannot be checked now.
    pub now_error: Vec<KeyChange>,
    /// Keys in the old report that the new one, which listed their account and region, lacks.
    pub gone: Vec<KeyChange>,
    /// Keys in one report only, where the other could not list their account or region: nothing
    /// is known of how they changed.
    pub not_compared: Vec<KeyChange>,
}

/// The categories of [`ReportDiff`], in the order people read them: what got worse first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub(crate) enum Category {
    Regressed,
    Lapsed,
    NewFailing,
    NowError,
    NotCompared,
    Gone,
    NewlyExempt,
    Fixed,
}

impl Category {
    pub(crate) const ALL: [Category; 8] = [
        Category::Regressed,
        Category::Lapsed,
        Category::NewFailing,
        Category::NowError,
        Category::NotCompared,
        Category::Gone,
        Category::NewlyExempt,
        Category::Fixed,
    ];

    /// The name in the JSON and in the renderings.
    pub(crate) fn as_str(self) -> &'static str {
        self.into()
    }
}

impl DiffCounts {
    fn count_mut(&mut self, category: Category) -> &mut usize {
        match category {
            Category::Fixed => &mut self.fixed,
            Category::Regressed => &mut self.regressed,
            Category::Lapsed => &mut self.lapsed,
            Category::NewFailing => &mut self.new_failing,
            Category::NewlyExempt => &mut self.newly_exempt,
            Category::NowError => &mut self.now_error,
            Category::Gone => &mut self.gone,
            Category::NotCompared => &mut self.not_compared,
        }
    }

    /// The count of `category`.
    pub(crate) fn get(self, category: Category) -> usize {
        let mut counts = self;
        *counts.count_mut(category)
    }

    /// True when the keys counted include a regression, a lapse or a new failure.
    fn worse(&self) -> bool {
        self.regressed + self.lapsed + self.new_failing > 0
    }
}

impl ReportDiff {
    /// The keys of `category`.
    pub(crate) fn keys(&self, category: Category) -> &[KeyChange] {
        match category {
            Category::Fixed => &self.fixed,
            Category::Regressed => &self.regressed,
            Category::Lapsed => &self.lapsed,
            Category::NewFailing => &self.new_failing,
            Category::NewlyExempt => &self.newly_exempt,
            Category::NowError => &self.now_error,
            Category::Gone => &self.gone,
            Category::NotCompared => &self.not_compared,
        }
    }

    fn keys_mut(&mut self, category: Category) -> &mut Vec<KeyChange> {
        match category {
            Category::Fixed => &mut self.fixed,
            Category::Regressed => &mut self.regressed,
            Category::Lapsed => &mut self.lapsed,
            Category::NewFailing => &mut self.new_failing,
            Category::NewlyExempt => &mut self.newly_exempt,
            Category::NowError => &mut self.now_error,
            Category::Gone => &mut self.gone,
            Category::NotCompared => &mut self.not_compared,
        }
    }
}

/// What happened to a key both reports have, from its old and new status; `None` when nothing
/// worth telling did (still failing is counted apart).
fn moved(old: Status, new: Status) -> Option<Category> {
    use Status::*;
    match (old, new) {
        (Fail | Exempt | Error, Pass) => Some(Category::Fixed),
        (Pass | NotApplicable, Fail) => Some(Category::Regressed),
        (Exempt, Fail) => Some(Category::Lapsed),
        (Error, Fail) => Some(Category::NewFailing),
        (Pass | NotApplicable | Fail | Error, Exempt) => Some(Category::NewlyExempt),
        (Pass | NotApplicable | Fail | Exempt, Error) => Some(Category::NowError),
        _ => None,
    }
}

/// What a key only the new report has is: failing, exempt or unreadable now; else nothing.
fn appeared(new: Status) -> Option<Category> {
    match new {
        Status::Fail => Some(Category::NewFailing),
        Status::Exempt => Some(Category::NewlyExempt),
        Status::Error => Some(Category::NowError),
        Status::Pass | Status::NotApplicable => None,
    }
}

/// True when one of `errors` (a report's scope errors) says the report could not list `account`
/// in `region`: an error without an account (or region) covers every account (or region).
fn not_listed(errors: &[ScopeError], account: &str, region: &str) -> bool {
    errors.iter().any(|e| {
        e.account_id.as_deref().is_none_or(|a| a == account)
            && e.region.as_deref().is_none_or(|r| r == region)
    })
}

/// The change of the key `about` (the finding of `new`, else of `old`).
fn change(about: &Finding, old: Option<&Finding>, new: Option<&Finding>) -> KeyChange {
    KeyChange {
        arn: about.arn.clone(),
        account_id: about.account_id.clone(),
        region: about.region.clone(),
        key_id: about.key_id.clone(),
        old_status: old.map(|f| f.status),
        new_status: new.map(|f| f.status),
        old_reason: old.map(|f| f.reason),
        new_reason: new.map(|f| f.reason),
        exception: (new.and_then(|f| f.exception.as_deref().cloned()))
            .or_else(|| old.and_then(|f| f.exception.as_deref().cloned())),
    }
}

/// The progress from `old` to `new`, keys matched by ARN. Compares whatever it is given: that
/// `old` is the older report is checked by [`crate::ops::diff`].
pub fn compare(old: &Report, new: &Report) -> ReportDiff {
    let mut changes: Vec<(Category, KeyChange)> = Vec::new();
    let mut still_failing: Vec<(&str, &str)> = Vec::new();
    let mut old_by_arn: HashMap<&str, &Finding> =
        old.findings.iter().map(|f| (f.arn.as_str(), f)).collect();
    for now in &new.findings {
        let category = match old_by_arn.remove(now.arn.as_str()) {
            Some(before) => {
                if (before.status, now.status) == (Status::Fail, Status::Fail) {
                    still_failing.push((&now.account_id, &now.region));
                }
                moved(before.status, now.status).map(|c| (c, change(now, Some(before), Some(now))))
            }
            None if not_listed(&old.scope_errors, &now.account_id, &now.region) => {
                Some((Category::NotCompared, change(now, None, Some(now))))
            }
            None => appeared(now.status).map(|c| (c, change(now, None, Some(now)))),
        };
        changes.extend(category);
    }
    for before in old_by_arn.into_values() {
        // Gone only if the new scan read where the key was: scanning other regions or accounts
        // (or failing to list them) says nothing about it.
        let unread = not_listed(&new.scope_errors, &before.account_id, &before.region)
            || !new.scope.covers(&before.account_id, &before.region);
        let category = match unread {
            true => Category::NotCompared,
            false => Category::Gone,
        };
        changes.push((category, change(before, Some(before), None)));
    }
    changes.sort_by(|(_, a), (_, b)| {
        (&a.account_id, &a.region, &a.arn).cmp(&(&b.account_id, &b.region, &b.arn))
    });

    let mut diff = ReportDiff {
        old: DiffSide::of(old),
        new: DiffSide::of(new),
        worse: false,
        policy_changed: old.policy != new.policy,
        counts: DiffCounts::default(),
        by_account_region: Vec::new(),
        fixed: Vec::new(),
        regressed: Vec::new(),
        lapsed: Vec::new(),
        new_failing: Vec::new(),
        newly_exempt: Vec::new(),
        now_error: Vec::new(),
        gone: Vec::new(),
        not_compared: Vec::new(),
    };
    let mut places: BTreeMap<(String, String), DiffCounts> = BTreeMap::new();
    for (account, region) in still_failing {
        at(&mut places, account, region).still_failing += 1;
        diff.counts.still_failing += 1;
    }
    for (category, key) in changes {
        *at(&mut places, &key.account_id, &key.region).count_mut(category) += 1;
        *diff.counts.count_mut(category) += 1;
        diff.keys_mut(category).push(key);
    }
    diff.worse = diff.counts.worse();
    diff.by_account_region = places
        .into_iter()
        .map(|((account_id, region), counts)| AccountRegionCounts {
            account_id,
            region,
            counts,
        })
        .collect();
    diff
}

/// The counts of `account` in `region`.
fn at<'a>(
    places: &'a mut BTreeMap<(String, String), DiffCounts>,
    account: &str,
    region: &str,
) -> &'a mut DiffCounts {
    places
        .entry((account.to_owned(), region.to_owned()))
        .or_default()
}

impl DiffSide {
    fn of(report: &Report) -> Self {
        DiffSide {
            generated_at: report.generated_at,
            complete: report.is_complete(),
        }
    }
}
