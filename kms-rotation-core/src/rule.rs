//! The rule of `rule.md`: a pure function from a key record, a policy and `now` to a finding.
//!
//! The decision table is walked in its order, first match wins; then exceptions may turn a
//! `fail` into `exempt`. Nothing here does I/O or reads the clock.

use std::borrow::Cow;

use chrono::{DateTime, Duration, Utc};

use crate::controls;
use crate::finding::{AppliedException, Finding, PeriodSource, Reason, Status};
use crate::model::{KeyError, KeyManager, KeyRecord, KeySpec, KeyState, Origin, operation};
use crate::policy::{DisabledKeys, Exception, ExceptionMatch, Policy, RotationPeriod};

/// Evaluates one key.
///
/// ```
/// use kms_rotation::{evaluate, KeyRecord, Policy, Status};
/// let key: KeyRecord = serde_json::from_str(r#"{
///   "arn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
///   "key_manager": "CUSTOMER", "key_spec": "SYMMETRIC_DEFAULT", "origin": "AWS_KMS",
///   "key_state": "Enabled", "rotation": {"enabled": false}
/// }"#).unwrap();
/// let finding = evaluate(&key, &Policy::default(), chrono::Utc::now());
/// assert_eq!(finding.status, Status::Fail);
/// assert_eq!(finding.reason.as_str(), "rotation_disabled");
/// ```
pub fn evaluate(record: &KeyRecord, policy: &Policy, now: DateTime<Utc>) -> Finding {
    into_finding(record.clone(), judge(record, policy, now))
}

/// [`evaluate`] of a record the caller no longer needs: its evidence moves into the finding
/// instead of being copied.
pub(crate) fn evaluate_owned(record: KeyRecord, policy: &Policy, now: DateTime<Utc>) -> Finding {
    let verdict = judge(&record, policy, now);
    into_finding(record, verdict)
}

/// Evaluates many keys with one policy and one `now`.
pub fn evaluate_all<'a>(
    records: impl IntoIterator<Item = &'a KeyRecord>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    records
        .into_iter()
        .map(|r| evaluate(r, policy, now))
        .collect()
}

/// Whether reading the rotation status (GetKeyRotationStatus) can change `record`'s verdict.
/// Sources call it after DescribeKey, so keys the rule settles earlier cost no further call.
pub fn needs_rotation_status(record: &KeyRecord, policy: &Policy) -> bool {
    if record.rotation.is_some()
        || record
            .error_for(operation::GET_KEY_ROTATION_STATUS)
            .is_some()
    {
        return false;
    }
    // With no rotation facts, the table stops at row 8 exactly when rows 1-7a did not decide:
    // that is when the rotation status is needed. `now` only matters to row 5a, which never
    // reaches row 8.
    let verdict = decide(record, policy, DateTime::<Utc>::UNIX_EPOCH);
    verdict.reason == Reason::RotationStatusFailed
        && verdict
            .error
            .is_some_and(|e| e.operation == operation::GET_KEY_ROTATION_STATUS)
}

/// Whether `record` fails the rule before exceptions (a `fail` or an `exempt` finding).
/// Sources use it to read tags only where an exception or a remediation priority may need them.
pub fn would_fail(record: &KeyRecord, policy: &Policy, now: DateTime<Utc>) -> bool {
    decide(record, policy, now).status == Status::Fail
}

/// The decision table, then the exceptions.
fn judge(record: &KeyRecord, policy: &Policy, now: DateTime<Utc>) -> Verdict {
    let mut verdict = decide(record, policy, now);
    if verdict.status == Status::Fail {
        apply_exceptions(&mut verdict, record, policy, now);
    }
    verdict
}

/// The outcome of the decision table, before the record's evidence is attached.
#[derive(Debug)]
struct Verdict {
    status: Status,
    reason: Reason,
    period_source: Option<PeriodSource>,
    exception: Option<AppliedException>,
    error: Option<KeyError>,
}

impl Verdict {
    fn new(status: Status, reason: Reason) -> Self {
        Verdict {
            status,
            reason,
            period_source: None,
            exception: None,
            error: None,
        }
    }

    fn not_applicable(reason: Reason) -> Self {
        Verdict::new(Status::NotApplicable, reason)
    }

    fn error(reason: Reason, error: KeyError) -> Self {
        // A value that code leaves to deploy time is not a failed read: it has its own reason.
        let reason = if error.code == UNKNOWN_UNTIL_APPLY {
            Reason::UnknownUntilApply
        } else {
            reason
        };
        Verdict {
            error: Some(error),
            ..Verdict::new(Status::Error, reason)
        }
    }
}

/// The error code of a fact a Terraform plan or CloudFormation template leaves to apply or
/// deploy time (a reference, an intrinsic function): the rule's `unknown_until_apply`.
pub const UNKNOWN_UNTIL_APPLY: &str = "UnknownUntilApply";

/// Rows 3-5 for a key that cannot rotate automatically. A key declared in code that asks for
/// rotation anyway fails instead: its deploy would fail (KMS refuses EnableKeyRotation for it).
fn cannot_rotate(record: &KeyRecord, reason: Reason) -> Verdict {
    let asks_for_rotation = record.location.is_some()
        && record
            .rotation
            .as_ref()
            .is_some_and(|rotation| rotation.enabled);
    if asks_for_rotation {
        Verdict::new(Status::Fail, Reason::RotationNotSupported)
    } else {
        Verdict::not_applicable(reason)
    }
}

/// A fact the rule needs that the source did not collect, reported as an error, never a guess.
fn not_collected(operation: &str, what: &str) -> KeyError {
    KeyError {
        operation: operation.to_owned(),
        code: "NotCollected".to_owned(),
        message: format!("{what} was not read for this key"),
    }
}

/// The decision table, rows 1-11, first match wins.
fn decide(record: &KeyRecord, policy: &Policy, now: DateTime<Utc>) -> Verdict {
    // 1. Without DescribeKey nothing else can be judged.
    if let Some(err) = record.error_for(operation::DESCRIBE_KEY) {
        return Verdict::error(Reason::DescribeFailed, err.clone());
    }
    let (Some(manager), Some(spec), Some(origin), Some(state)) = (
        record.key_manager,
        record.key_spec,
        record.origin,
        record.key_state,
    ) else {
        let field = record.missing_metadata().unwrap_or("key metadata");
        return Verdict::error(
            Reason::DescribeFailed,
            not_collected(operation::DESCRIBE_KEY, field),
        );
    };

    // 2-4. Keys for which automatic rotation does not exist.
    if manager == KeyManager::Aws {
        return Verdict::not_applicable(Reason::AwsManaged);
    }
    if spec != KeySpec::SymmetricDefault {
        return cannot_rotate(record, Reason::UnsupportedKeySpec);
    }
    let in_custom_store = record
        .custom_key_store_id
        .as_deref()
        .is_some_and(|id| !id.is_empty());
    if matches!(origin, Origin::AwsCloudhsm | Origin::ExternalKeyStore) || in_custom_store {
        return cannot_rotate(record, Reason::CustomKeyStore);
    }

    // 5 / 5a. Imported material rotates only on demand.
    if origin == Origin::External {
        let verdict = cannot_rotate(record, Reason::ImportedKeyMaterial);
        if verdict.status == Status::Fail {
            return verdict;
        }
        return match policy.imported_key_max_age_days {
            None => Verdict::not_applicable(Reason::ImportedKeyMaterial),
            Some(max_age_days) => decide_imported(record, max_age_days, now),
        };
    }

    // 6-7a. Keys on their way out or not usable yet.
    match state {
        // GetKeyRotationStatus reads false by design while deletion is pending.
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => {
            return Verdict::not_applicable(Reason::PendingDeletion);
        }
        KeyState::PendingImport => return Verdict::not_applicable(Reason::KeyStatePendingImport),
        KeyState::Unavailable => return Verdict::not_applicable(Reason::KeyStateUnavailable),
        KeyState::Creating => return Verdict::not_applicable(Reason::KeyStateCreating),
        KeyState::Disabled if policy.disabled_keys == DisabledKeys::Skip => {
            return Verdict::not_applicable(Reason::KeyDisabled);
        }
        KeyState::Enabled | KeyState::Disabled | KeyState::Updating => {}
    }

    // 8. A failed read is an error, never `false`.
    if let Some(err) = record.error_for(operation::GET_KEY_ROTATION_STATUS) {
        return Verdict::error(Reason::RotationStatusFailed, err.clone());
    }
    let Some(rotation) = &record.rotation else {
        return Verdict::error(
            Reason::RotationStatusFailed,
            not_collected(operation::GET_KEY_ROTATION_STATUS, "the rotation status"),
        );
    };

    // 9-11.
    if !rotation.enabled {
        return Verdict::new(Status::Fail, Reason::RotationDisabled);
    }
    let (period, period_source) = match rotation.period_days {
        Some(days) => (days, PeriodSource::Reported),
        None => (
            RotationPeriod::AWS_DEFAULT.days(),
            PeriodSource::AssumedDefault,
        ),
    };
    let verdict = if period > policy.max_rotation_period_days.days() {
        Verdict::new(Status::Fail, Reason::RotationPeriodExceedsPolicy)
    } else {
        Verdict::new(Status::Pass, Reason::RotationEnabled)
    };
    Verdict {
        period_source: Some(period_source),
        ..verdict
    }
}

/// Row 5a: an imported key passes when its material was rotated on demand (or, never rotated,
/// created) within `max_age_days`.
fn decide_imported(record: &KeyRecord, max_age_days: u32, now: DateTime<Utc>) -> Verdict {
    if let Some(err) = record.error_for(operation::LIST_KEY_ROTATIONS) {
        return Verdict::error(Reason::RotationStatusFailed, err.clone());
    }
    let last_rotation = record
        .rotation
        .as_ref()
        .and_then(|r| r.last_rotation.as_ref())
        .map(|r| r.date);
    let Some(material_since) = last_rotation.or(record.creation_date) else {
        return Verdict::error(
            Reason::RotationStatusFailed,
            not_collected(
                operation::LIST_KEY_ROTATIONS,
                "neither the last rotation nor the creation date",
            ),
        );
    };
    if now - material_since <= Duration::days(i64::from(max_age_days)) {
        Verdict::new(Status::Pass, Reason::ImportedKeyRotatedOnDemand)
    } else {
        Verdict::new(Status::Fail, Reason::ImportedKeyRotationOverdue)
    }
}

/// An active exception turns a fail into exempt; an expired one stays attached, marked expired,
/// so its owner sees it lapsed. Active exceptions win over expired ones; then file order.
///
/// An active exception that matches on a fact the record lacks (tags or aliases not read, or
/// their read failed) leaves the verdict unknowable: `error` / `exception_undecidable`, never
/// `fail` (a plan would write to a key its owner exempted) and never `exempt` (it would hide a
/// key nobody exempted). A definite active match still exempts.
fn apply_exceptions(
    verdict: &mut Verdict,
    record: &KeyRecord,
    policy: &Policy,
    now: DateTime<Utc>,
) {
    let mut expired = None;
    let mut undecidable = None;
    for exception in &policy.exceptions {
        let active = exception.is_active(now);
        match exception.matcher.matches(record) {
            Some(true) if active => {
                verdict.status = Status::Exempt;
                verdict.exception = Some(AppliedException::new(exception, false));
                return;
            }
            Some(true) => {
                expired.get_or_insert(exception);
            }
            // An expired exception cannot change a fail, known or not.
            None if active => {
                undecidable.get_or_insert(exception);
            }
            Some(false) | None => {}
        }
    }
    if let Some(exception) = undecidable {
        *verdict = Verdict::error(
            Reason::ExceptionUndecidable,
            missing_fact(record, exception),
        );
    } else if let Some(exception) = expired {
        verdict.exception = Some(AppliedException::new(exception, true));
    }
}

/// The failed read behind an undecidable exception, or a `NotCollected` error naming it.
fn missing_fact(record: &KeyRecord, exception: &Exception) -> KeyError {
    let operation = exception
        .matcher
        .needed_read()
        .unwrap_or(operation::DESCRIBE_KEY);
    if let Some(failed) = record.error_for(operation) {
        return failed.clone();
    }
    let fact = match exception.matcher {
        ExceptionMatch::Alias(_) => "the aliases",
        _ => "the tags",
    };
    KeyError {
        operation: operation.to_owned(),
        code: "NotCollected".to_owned(),
        message: format!(
            "{fact} were not read for this key, so the exception owned by `{}` cannot be \
             decided; scan with all tags (or re-scan) to decide it",
            exception.owner
        ),
    }
}

fn into_finding(record: KeyRecord, verdict: Verdict) -> Finding {
    let remediation_target = match verdict.status {
        Status::Fail | Status::Exempt => remediation_target(&record),
        _ => None,
    };
    // A plan can act only on automatic-rotation failures of a key that accepts the write
    // (EnableKeyRotation answers DisabledException on a disabled key) and whose target is known.
    let remediable = verdict.status == Status::Fail
        && matches!(
            verdict.reason,
            Reason::RotationDisabled | Reason::RotationPeriodExceedsPolicy
        )
        && record.key_state != Some(KeyState::Disabled)
        && remediation_target.is_some();
    let mut finding = Finding {
        arn: record.arn,
        account_id: record.account_id,
        region: record.region,
        key_id: record.key_id,
        status: verdict.status,
        reason: verdict.reason,
        severity: controls::severity(verdict.status, verdict.reason),
        // The same for every finding: shared, not a list each.
        controls: Cow::Borrowed(controls::controls()),
        // Needs the finding's evidence: set below.
        message: Cow::Borrowed(""),
        remediable,
        remediation_target,
        aliases: record.aliases,
        tags: record.tags,
        key_manager: record.key_manager,
        key_spec: record.key_spec,
        key_usage: record.key_usage,
        origin: record.origin,
        custom_key_store_id: record.custom_key_store_id,
        key_state: record.key_state,
        creation_date: record.creation_date,
        multi_region: record.multi_region,
        rotation: record.rotation,
        exposure: record.exposure,
        period_source: verdict.period_source,
        exception: verdict.exception.map(Box::new),
        error: verdict.error.map(Box::new),
        errors: record.errors,
        location: record.location,
    };
    finding.message = controls::message(&finding);
    shrink_lists(&mut finding);
    finding
}

/// A finding outlives the read that made it, often for the whole scan, so its lists keep only
/// their items: one grown an item at a time (a parsed alias list, say) has room for four.
fn shrink_lists(finding: &mut Finding) {
    if let Some(aliases) = &mut finding.aliases {
        aliases.shrink_to_fit();
    }
    if let Some(exposure) = &mut finding.exposure {
        exposure.evidence.shrink_to_fit();
    }
    finding.errors.shrink_to_fit();
}

/// Replicas share the primary's rotation setting: a fix goes to the primary. A replica whose
/// primary is unknown has no target (and so is not remediable), nor has a key declared in code:
/// it has no ARN yet, and its fix is a change to the code.
fn remediation_target(record: &KeyRecord) -> Option<String> {
    if record.location.is_some() {
        None
    } else if record.is_replica() {
        record
            .multi_region
            .as_ref()
            .and_then(|m| m.primary_arn.clone())
    } else {
        Some(record.arn.clone())
    }
}
