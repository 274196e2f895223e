//! `event`: re-check the keys a KMS CloudTrail event touches, and optionally fix them through
//! the same plan, apply and journal as any other run.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ApplyOptions, PlanOptions, ScanOptions};
use crate::event::{Touched, TouchedKey, touched_keys};
use crate::remediate::{ApplyOutcome, Plan};
use crate::source::ProgressFn;
use crate::{Error, Report, Result};

/// Options of [`event`]. One of `event` and `event_file` is the event.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EventOptions {
    /// The EventBridge event, as delivered (`source`, `detail-type`, `account`, `region`,
    /// `detail`).
    pub event: Option<serde_json::Value>,
    /// A file holding the event (JSON, or YAML by extension), instead of `event`.
    #[serde(alias = "eventFile")]
    pub event_file: Option<PathBuf>,
    /// How to read the keys: AWS by default (with its AWS options), the policy, exceptions.
    /// The event decides which accounts and regions are read; `regions` and `accounts`, when
    /// set, keep only the keys within them (an event with none within them is ignored).
    pub scan: ScanOptions,
    /// Plan the fix of the touched keys that fail, and apply it (a dry run unless `dry_run` is
    /// false).
    pub remediate: bool,
    /// The journal of the remediation (required to write).
    pub journal: Option<PathBuf>,
    /// `true` (the default): the remediation calls nothing and writes nothing.
    #[serde(alias = "dryRun")]
    pub dry_run: bool,
    /// The rotation period the fix sets; default: the policy's target.
    #[serde(alias = "targetPeriodDays")]
    pub target_period_days: Option<u32>,
}

impl Default for EventOptions {
    fn default() -> Self {
        EventOptions {
            event: None,
            event_file: None,
            scan: ScanOptions::default(),
            remediate: false,
            journal: None,
            dry_run: true,
            target_period_days: None,
        }
    }
}

/// What [`event`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EventOutcome {
    /// Set when the event is not one this tool re-checks for: why. Nothing was read.
    pub ignored: Option<String>,
    /// The CloudTrail `eventName` re-checked for.
    pub event_name: Option<String>,
    /// The keys the event touches.
    pub keys: Vec<TouchedKey>,
    /// The findings of those keys (and what could not be listed), as a report.
    pub report: Option<Report>,
    /// Keys the event names that KMS says do not exist (deleted since, or the event is from
    /// elsewhere), or that the read returned nothing for: not re-checked, so not known to pass.
    pub not_found: Vec<TouchedKey>,
    /// The remediation plan, with `remediate`.
    pub plan: Option<Plan>,
    /// What the remediation did (or would do, in a dry run), with `remediate`.
    pub remediation: Option<ApplyOutcome>,
}

impl EventOutcome {
    fn ignored(reason: String) -> Self {
        EventOutcome {
            ignored: Some(reason),
            event_name: None,
            keys: Vec::new(),
            report: None,
            not_found: Vec::new(),
            plan: None,
            remediation: None,
        }
    }

    /// Whether every key the event names was read: its region listed, the key found.
    pub fn is_complete(&self) -> bool {
        self.not_found.is_empty() && self.report.as_ref().is_none_or(Report::is_complete)
    }
}

/// Re-checks the keys the event `options` names: reads only their accounts and regions, keeps
/// their findings, and with `remediate` plans and applies their fix. An event this tool does not
/// re-check for is ignored (with the reason, nothing read); a malformed one is an
/// `invalid_input` error naming the field (`event.detail.requestParameters.keyId`).
pub async fn event(options: EventOptions, progress: Option<ProgressFn>) -> Result<EventOutcome> {
    check_options(&options)?;
    let value = load_event(&options)?;
    let (event_name, keys) =
        match touched_keys(&value).map_err(|e| super::scan::under("event", e))? {
            Touched::Ignored(reason) => return Ok(EventOutcome::ignored(reason)),
            Touched::Keys { event_name, keys } => (event_name, keys),
        };
    let keys = match in_scope(keys, &options.scan) {
        Ok(keys) => keys,
        Err(reason) => return Ok(EventOutcome::ignored(reason)),
    };
    let mut scan = options.scan.clone();
    scan.accounts = distinct(keys.iter().map(|k| k.account_id.clone()));
    scan.regions = distinct(keys.iter().map(|k| k.region.clone()));
    let is_aws = scan.reads_aws();
    let arns = keys.iter().map(TouchedKey::arn).collect();
    let full = super::scan::scan_keys(scan.clone(), arns, progress).await?;
    let (report, not_found) = only_touched(full, &keys);

    let (plan, remediation) = if options.remediate {
        let plan = super::plan(
            PlanOptions {
                report: Some(report.clone()),
                target_period_days: options.target_period_days,
                ..PlanOptions::default()
            },
            None,
        )
        .await?;
        let apply = ApplyOptions {
            plan: Some(plan.clone()),
            journal: options.journal.clone(),
            dry_run: options.dry_run,
            ..ApplyOptions::default()
        };
        let outcome = if options.dry_run || !is_aws {
            super::apply(apply, None).await?
        } else {
            let regions = plan.actions.iter().map(|a| a.region.clone()).collect();
            let target = super::connect(scan.aws_options(regions)).await?;
            super::apply_to(apply, target, None).await?
        };
        (Some(plan), Some(outcome))
    } else {
        (None, None)
    };
    Ok(EventOutcome {
        ignored: None,
        event_name: Some(event_name),
        keys,
        report: Some(report),
        not_found,
        plan,
        remediation,
    })
}

fn load_event(options: &EventOptions) -> Result<serde_json::Value> {
    match (&options.event, &options.event_file) {
        (Some(event), None) => Ok(event.clone()),
        (None, Some(path)) => crate::input::read_file(path),
        (None, None) => Err(
            Error::invalid_input("no event: give an event or an event file").with_field("event"),
        ),
        (Some(_), Some(_)) => Err(
            Error::invalid_input("give an event or an event file, not both")
                .with_field("event_file"),
        ),
    }
}

/// Checked before anything is read.
fn check_options(options: &EventOptions) -> Result<()> {
    // The scope is checked as a scan checks it (known regions, account ids), before any read.
    options
        .scan
        .scope()
        .map_err(|e| super::scan::under("scan", e))?;
    if options.remediate && !options.dry_run && !options.scan.reads_aws() {
        return Err(Error::invalid_input(
            "a remediation writes to AWS: it cannot follow a read of records, an inventory, a plan or templates",
        )
        .with_field("remediate"));
    }
    if !options.remediate && (options.journal.is_some() || !options.dry_run) {
        return Err(Error::invalid_input(
            "`journal` and `dry_run` are for a remediation: set `remediate`",
        )
        .with_field("remediate"));
    }
    Ok(())
}

/// The touched keys within `scan`'s accounts and regions (each list, when set, is "only these",
/// as for a scan: a deployment watching some regions or accounts); why none is, when none is.
fn in_scope(
    keys: Vec<TouchedKey>,
    scan: &ScanOptions,
) -> std::result::Result<Vec<TouchedKey>, String> {
    let allows = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
    let (inside, outside): (Vec<_>, Vec<_>) = keys
        .into_iter()
        .partition(|k| allows(&scan.accounts, &k.account_id) && allows(&scan.regions, &k.region));
    for key in &outside {
        tracing::info!(
            account = %key.account_id,
            region = %key.region,
            key_id = %key.key_id,
            "a key of the event is outside the accounts and regions asked for: not re-checked"
        );
    }
    if inside.is_empty() {
        let places: Vec<String> = outside
            .iter()
            .map(|k| format!("{} / {}", k.account_id, k.region))
            .collect();
        return Err(format!(
            "the event's keys are outside the accounts and regions asked for ({})",
            places.join(", ")
        ));
    }
    Ok(inside)
}

/// The report of the touched keys only (scope errors kept: a region not listed leaves its keys
/// unknown), and the touched keys that are not there: DescribeKey answered NotFoundException
/// (deleted since the call), or the read returned no record of them.
fn only_touched(full: Report, keys: &[TouchedKey]) -> (Report, Vec<TouchedKey>) {
    let is_touched = |account: &str, region: &str, key_id: &str| {
        keys.iter()
            .any(|k| k.account_id == account && k.region == region && k.key_id == key_id)
    };
    let is_gone = |f: &crate::Finding| {
        f.errors
            .iter()
            .any(|e| e.operation == crate::model::operation::DESCRIBE_KEY && e.code == NOT_FOUND)
    };
    let (findings, gone): (Vec<_>, Vec<_>) = full
        .findings
        .into_iter()
        .filter(|f| is_touched(&f.account_id, &f.region, &f.key_id))
        .partition(|f| !is_gone(f));
    let not_listed = |key: &TouchedKey| {
        full.scope_errors.iter().any(|e| {
            e.account_id.as_deref().is_none_or(|a| a == key.account_id)
                && e.region.as_deref().is_none_or(|r| r == key.region)
        })
    };
    let not_found = keys
        .iter()
        .filter(|k| {
            let is = |f: &crate::Finding| {
                f.account_id == k.account_id && f.region == k.region && f.key_id == k.key_id
            };
            gone.iter().any(is) || (!not_listed(k) && !findings.iter().any(is))
        })
        .cloned()
        .collect();
    let report = Report::new(
        findings,
        full.policy,
        full.scope,
        full.scope_errors,
        full.generated_at,
    );
    (report, not_found)
}

/// KMS's answer for a key that does not exist (or was deleted).
const NOT_FOUND: &str = "NotFoundException";

fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut values: Vec<String> = values.collect();
    values.sort_unstable();
    values.dedup();
    values
}
