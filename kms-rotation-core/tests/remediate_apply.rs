//! Applying a plan and rolling it back against the in-memory target: verification, the journal,
//! the circuit breaker, idempotence, and leaving other people's changes alone.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use kms_rotation::remediate::{
    ActionStatus, ApplyOptions, Event, Journal, MemoryTarget, Plan, PlanOptions,
    RemediationProgress, RollbackOptions, RollbackStatus, RotationState, WriteMode, apply, plan,
    read_journal, rollback,
};
use kms_rotation::{ErrorKind, Policy, RemediationTarget, Report, ReportScope, RotationPeriod};

const ORDERS: &str = "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002";
const REPORTS: &str = "arn:aws:kms:us-east-1:111122223333:key/00000003-0000-4000-8000-000000000003";
const PAYMENTS: &str =
    "arn:aws:kms:us-east-1:111122223333:key/00000001-0000-4000-8000-000000000001";

fn fleet_plan() -> Plan {
    let report = Report::evaluate(
        &common::fleet(),
        Policy::default(),
        ReportScope::default(),
        Vec::new(),
        "2026-11-22T12:00:00Z".parse().unwrap(),
    );
    plan(&report, &PlanOptions::default()).unwrap()
}

/// A target holding the fleet's rotation states (as scanned), so that the plan's keys fail.
fn fleet_target() -> Arc<MemoryTarget> {
    Arc::new(MemoryTarget::new(common::fleet().into_iter().filter_map(
        |r| {
            let rotation = r.rotation?;
            Some((
                r.arn,
                RotationState {
                    enabled: rotation.enabled,
                    period_days: rotation.period_days,
                },
            ))
        },
    )))
}

#[tokio::test]
async fn apply_remediates_verifies_and_journals_each_key() {
    let plan = fleet_plan();
    let target = fleet_target();
    let path = common::scratch("remediate.ndjson");
    let journal = Journal::open(&path).unwrap();
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();

    assert!(outcome.is_success(), "{outcome:#?}");
    assert_eq!(outcome.count(ActionStatus::Remediated), plan.actions.len());
    for action in &plan.actions {
        assert_eq!(
            target.state(&action.target_arn),
            Some(RotationState::enabled(action.rotation_period_days)),
            "{}",
            action.target_arn
        );
    }
    assert_eq!(target.write_calls().len(), plan.actions.len());
    // The passing key was never written.
    assert_eq!(
        target.state(PAYMENTS),
        Some(RotationState {
            enabled: true,
            period_days: Some(365)
        })
    );

    let entries = read_journal(&path).unwrap();
    let events = |arn: &str| -> Vec<Event> {
        entries
            .iter()
            .filter(|e| e.target_arn == arn)
            .map(|e| e.event)
            .collect()
    };
    assert_eq!(
        events(REPORTS),
        vec![Event::Before, Event::After, Event::Verified]
    );
    let before = entries
        .iter()
        .find(|e| e.target_arn == REPORTS && e.event == Event::Before)
        .unwrap();
    assert_eq!(
        before.state,
        Some(RotationState {
            enabled: true,
            period_days: Some(730)
        })
    );
    assert!(entries.iter().all(|e| e.run_id == outcome.run_id));
    // NDJSON with the documented fields.
    let text = std::fs::read_to_string(&path).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    for field in ["at", "run_id", "target_arn", "event", "state", "error"] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
}

#[tokio::test]
async fn a_second_apply_of_the_same_plan_writes_nothing() {
    let plan = fleet_plan();
    let target = fleet_target();
    let journal = Journal::in_memory();
    apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    let writes = target.write_calls().len();

    let again = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(
        target.write_calls().len(),
        writes,
        "no write the second time"
    );
    assert_eq!(again.count(ActionStatus::Skipped), plan.actions.len());
    assert!(
        again
            .results
            .iter()
            .all(|r| r.reason.as_deref() == Some("already_at_target"))
    );
    assert!(again.is_success());
}

#[tokio::test]
async fn a_key_fixed_meanwhile_to_a_shorter_period_is_not_loosened() {
    let plan = fleet_plan();
    let target = fleet_target();
    target.set_state(
        REPORTS,
        RotationState {
            enabled: true,
            period_days: Some(180),
        },
    );
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    let result = outcome
        .results
        .iter()
        .find(|r| r.target_arn == REPORTS)
        .unwrap();
    assert_eq!(result.status, ActionStatus::Skipped);
    assert_eq!(result.reason.as_deref(), Some("already_compliant"));
    assert_eq!(target.state(REPORTS).unwrap().period_days, Some(180));
}

#[tokio::test]
async fn writes_that_do_not_stick_are_verification_failed() {
    let plan = fleet_plan();
    let target = fleet_target();
    target.set_write_mode(WriteMode::Ignore);
    let journal = Journal::in_memory();
    let outcome = apply(
        &plan,
        target.clone(),
        &ApplyOptions {
            max_consecutive_failures: 0,
            ..common::quick_apply_options()
        },
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(
        outcome.count(ActionStatus::VerificationFailed),
        plan.actions.len()
    );
    assert!(!outcome.is_success());
    let failed = journal
        .entries()
        .into_iter()
        .filter(|e| e.event == Event::VerificationFailed)
        .count();
    assert_eq!(failed, plan.actions.len());
    // The journal shows what was read last: still off.
    let last = journal
        .entries()
        .into_iter()
        .find(|e| e.target_arn == ORDERS && e.event == Event::VerificationFailed)
        .unwrap();
    assert_eq!(last.state, Some(RotationState::DISABLED));
}

#[tokio::test]
async fn a_change_that_shows_late_is_verified_within_the_bounded_wait() {
    let plan = fleet_plan();
    let target = fleet_target();
    target.set_read_lag(2);
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.count(ActionStatus::Remediated), plan.actions.len());
}

#[tokio::test]
async fn failing_writes_trip_the_circuit_breaker_after_the_configured_count() {
    // Enough keys that the breaker has something to stop.
    let records: Vec<_> = (1..=12)
        .map(|n| {
            let mut r = kms_rotation::KeyRecord::from_arn(&format!(
                "arn:aws:kms:us-east-1:111122223333:key/{n:08x}-0000-4000-8000-{n:012x}"
            ))
            .unwrap();
            r.key_manager = Some(kms_rotation::model::KeyManager::Customer);
            r.key_spec = Some(kms_rotation::model::KeySpec::SymmetricDefault);
            r.origin = Some(kms_rotation::model::Origin::AwsKms);
            r.key_state = Some(kms_rotation::model::KeyState::Enabled);
            r.rotation = Some(kms_rotation::model::Rotation {
                enabled: false,
                period_days: None,
                next_rotation_date: None,
                on_demand_rotation_start_date: None,
                last_rotation: None,
            });
            r
        })
        .collect();
    let report = Report::evaluate(
        &records,
        Policy::default(),
        ReportScope::default(),
        Vec::new(),
        chrono::Utc::now(),
    );
    let plan = plan(&report, &PlanOptions::default()).unwrap();
    let target = Arc::new(MemoryTarget::new(
        records
            .iter()
            .map(|r| (r.arn.clone(), RotationState::DISABLED)),
    ));
    target.set_write_mode(WriteMode::Fail("AccessDeniedException".into()));
    let journal = Journal::in_memory();
    let outcome = apply(
        &plan,
        target.clone(),
        &ApplyOptions {
            max_consecutive_failures: 3,
            concurrency: 1,
            ..common::quick_apply_options()
        },
        &journal,
    )
    .await
    .unwrap();

    assert_eq!(target.write_calls().len(), 3, "stopped after 3 failures");
    assert_eq!(outcome.count(ActionStatus::Failed), 3);
    assert_eq!(outcome.count(ActionStatus::NotAttempted), 9);
    assert!(
        outcome
            .stopped
            .as_deref()
            .unwrap()
            .contains("3 consecutive failures"),
        "{:?}",
        outcome.stopped
    );
    let failed = &outcome.results[0];
    assert_eq!(failed.error.as_ref().unwrap().code, "AccessDeniedException");
    let journaled = journal
        .entries()
        .into_iter()
        .filter(|e| e.event == Event::Failed)
        .collect::<Vec<_>>();
    assert_eq!(journaled.len(), 3);
    assert_eq!(
        journaled[0].error.as_ref().unwrap().code,
        "AccessDeniedException"
    );

    // One key failing does not stop the others.
    let target = Arc::new(MemoryTarget::new(
        records
            .iter()
            .map(|r| (r.arn.clone(), RotationState::DISABLED)),
    ));
    target.fail_key(&records[0].arn, "KMSInvalidStateException");
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.count(ActionStatus::Failed), 1);
    assert_eq!(outcome.count(ActionStatus::Remediated), 11);
    assert!(outcome.stopped.is_none());
}

#[tokio::test]
async fn a_dry_run_reads_but_writes_nothing_and_journals_nothing() {
    let plan = fleet_plan();
    let target = fleet_target();
    let journal = Journal::in_memory();
    let outcome = apply(
        &plan,
        target.clone(),
        &ApplyOptions {
            dry_run: true,
            ..common::quick_apply_options()
        },
        &journal,
    )
    .await
    .unwrap();
    assert!(target.write_calls().is_empty());
    assert!(journal.entries().is_empty());
    assert_eq!(
        outcome.count(ActionStatus::WouldRemediate),
        plan.actions.len()
    );
}

#[tokio::test]
async fn rollback_restores_the_exact_before_state_and_touches_nothing_else() {
    let plan = fleet_plan();
    let target = fleet_target();
    let original: Vec<(String, Option<RotationState>)> = common::fleet()
        .iter()
        .map(|r| (r.arn.clone(), target.state(&r.arn)))
        .collect();
    let path = common::scratch("rollback.ndjson");
    let journal = Journal::open(&path).unwrap();
    apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    let writes_by_apply = target.write_calls().len();

    let entries = read_journal(&path).unwrap();
    let outcome = rollback(
        &entries,
        target.clone(),
        &common::quick_rollback_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(
        outcome.count(RollbackStatus::RolledBack),
        plan.actions.len(),
        "{outcome:#?}"
    );
    // Every key is back as it was: flag and period (reports: enabled, 730 days).
    for (arn, state) in &original {
        assert_eq!(&target.state(arn), state, "{arn}");
    }
    // Writes only to the keys the run changed.
    let rollback_writes = &target.write_calls()[writes_by_apply..];
    assert_eq!(rollback_writes.len(), plan.actions.len());
    let reports = rollback_writes.iter().find(|w| w.arn == REPORTS).unwrap();
    assert_eq!(reports.enable, Some(730), "the old period comes back");
    let orders = rollback_writes.iter().find(|w| w.arn == ORDERS).unwrap();
    assert_eq!(orders.enable, None, "rotation was off: DisableKeyRotation");

    // A second rollback of the same journal (now with the rollback's events) changes nothing.
    let entries = read_journal(&path).unwrap();
    assert!(entries.iter().any(|e| e.event == Event::RolledBack));
    let writes = target.write_calls().len();
    let again = rollback(
        &entries,
        target.clone(),
        &common::quick_rollback_options(),
        &journal,
    )
    .await
    .unwrap();
    assert!(again.results.is_empty(), "{again:#?}");
    assert_eq!(target.write_calls().len(), writes);
}

#[tokio::test]
async fn rollback_leaves_a_key_changed_since_alone_and_says_so() {
    let plan = fleet_plan();
    let target = fleet_target();
    let path = common::scratch("changed-since.ndjson");
    let journal = Journal::open(&path).unwrap();
    apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();

    // Someone shortens the period after the run.
    let theirs = RotationState::enabled(RotationPeriod::new(90).unwrap());
    target.set_state(ORDERS, theirs);
    let outcome = rollback(
        &read_journal(&path).unwrap(),
        target.clone(),
        &common::quick_rollback_options(),
        &journal,
    )
    .await
    .unwrap();
    let orders = outcome
        .results
        .iter()
        .find(|r| r.target_arn == ORDERS)
        .unwrap();
    assert_eq!(orders.status, RollbackStatus::Skipped);
    assert_eq!(orders.reason.as_deref(), Some("changed_since"));
    assert_eq!(target.state(ORDERS), Some(theirs), "not overwritten");
    assert_eq!(
        outcome.count(RollbackStatus::RolledBack),
        plan.actions.len() - 1
    );
    let entries = read_journal(&path).unwrap();
    let skipped = entries
        .iter()
        .find(|e| e.event == Event::RollbackSkipped)
        .unwrap();
    assert_eq!(skipped.target_arn, ORDERS);
    assert_eq!(skipped.state, Some(theirs));
}

#[tokio::test]
async fn a_rollback_dry_run_writes_nothing() {
    let plan = fleet_plan();
    let target = fleet_target();
    let journal = Journal::in_memory();
    apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    let writes = target.write_calls().len();
    let entries = journal.entries();
    let outcome = rollback(
        &entries,
        target.clone(),
        &RollbackOptions {
            dry_run: true,
            ..common::quick_rollback_options()
        },
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(
        outcome.count(RollbackStatus::WouldRollBack),
        plan.actions.len()
    );
    assert_eq!(target.write_calls().len(), writes);
    assert_eq!(journal.entries().len(), entries.len());
}

#[test]
fn a_journal_line_that_does_not_parse_is_an_error_naming_the_line() {
    let path = common::scratch("broken.ndjson");
    std::fs::write(
        &path,
        "{\"at\":\"2026-11-22T12:00:00Z\",\"run_id\":\"r\",\"target_arn\":\"a\",\"event\":\"before\",\"state\":{\"enabled\":false},\"error\":null}\n\
         {\"at\":\"2026-11-22T12:00:01Z\",\"run_id\":\"r\",\"target_arn\":\"a\",\"event\":\"exploded\"}\n",
    )
    .unwrap();
    let err = read_journal(&path).unwrap_err();
    assert_eq!(err.context().line, Some(2), "{err}");
    assert_eq!(err.context().file.as_deref(), Some(path.as_path()));
    assert!(err.to_string().contains("exploded"), "{err}");
}

#[tokio::test]
async fn the_memory_target_reports_aws_codes() {
    let target = MemoryTarget::default();
    let err = target.read_rotation(ORDERS).await.unwrap_err();
    assert_eq!(err.context().code.as_deref(), Some("NotFoundException"));
}

/// Records every progress call, for the assertions below.
fn recorder() -> (
    Arc<std::sync::Mutex<Vec<RemediationProgress>>>,
    kms_rotation::remediate::RemediationProgressFn,
) {
    let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = calls.clone();
    (
        calls,
        Arc::new(move |p: RemediationProgress| sink.lock().unwrap().push(p)),
    )
}

fn assert_counts_every_item(calls: &[RemediationProgress], total: usize) {
    assert_eq!(calls.len(), total, "one call per item: {calls:?}");
    for (n, call) in calls.iter().enumerate() {
        assert_eq!(call.done, n + 1, "cumulative and in order: {calls:?}");
        assert_eq!(call.total, total);
    }
}

#[tokio::test]
async fn apply_and_rollback_report_progress_once_per_item() {
    let plan = fleet_plan();
    let target = fleet_target();
    // One key already at the target: skipped, and still counted.
    let first = plan.actions[0].target_arn.clone();
    target.set_state(
        &first,
        RotationState::enabled(plan.actions[0].rotation_period_days),
    );
    let (calls, progress) = recorder();
    let journal = Journal::in_memory();
    let outcome = apply(
        &plan,
        target.clone(),
        &ApplyOptions {
            progress: Some(progress),
            ..common::quick_apply_options()
        },
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(outcome.count(ActionStatus::Skipped), 1);
    assert_counts_every_item(&calls.lock().unwrap(), plan.actions.len());

    let (calls, progress) = recorder();
    let outcome = rollback(
        &journal.entries(),
        target.clone(),
        &RollbackOptions {
            progress: Some(progress),
            ..common::quick_rollback_options()
        },
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    assert_counts_every_item(&calls.lock().unwrap(), outcome.results.len());
    assert_eq!(outcome.results.len(), plan.actions.len() - 1);

    let debug = format!(
        "{:?}",
        ApplyOptions {
            progress: Some(recorder().1),
            ..common::quick_apply_options()
        }
    );
    assert!(debug.contains("progress: true"), "{debug}");
}

#[tokio::test]
async fn the_first_failed_action_is_available_as_a_typed_error() {
    let plan = fleet_plan();
    let target = fleet_target();
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    assert!(outcome.failure().is_none(), "{outcome:#?}");

    let target = fleet_target();
    let second = plan.actions[1].target_arn.clone();
    target.fail_key(&second, "ThrottlingException");
    let journal = Journal::in_memory();
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    let err = outcome.failure().unwrap();
    assert_eq!(err.kind(), ErrorKind::Throttled);
    assert!(err.is_retryable());
    let c = err.context();
    assert_eq!(c.key_arn.as_deref(), Some(second.as_str()));
    assert_eq!(c.region.as_deref(), Some(plan.actions[1].region.as_str()));
    assert_eq!(c.code.as_deref(), Some("ThrottlingException"));
    // The first call on a key is the scope re-check.
    assert_eq!(c.operation.as_deref(), Some("DescribeKey"));

    // Rollback: writes failing with a code the kind follows.
    let rollback_target = fleet_target();
    for action in &plan.actions {
        rollback_target.set_state(
            &action.target_arn,
            RotationState::enabled(action.rotation_period_days),
        );
    }
    rollback_target.set_write_mode(WriteMode::Fail("AccessDeniedException".into()));
    let outcome = rollback(
        &journal.entries(),
        rollback_target,
        &common::quick_rollback_options(),
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    let err = outcome.failure().unwrap();
    assert_eq!(err.kind(), ErrorKind::AccessDenied);
    let c = err.context();
    assert_eq!(
        c.key_arn.as_deref(),
        Some(outcome.results[0].target_arn.as_str())
    );
    // The region comes from the ARN.
    assert_eq!(
        c.region.as_deref(),
        outcome.results[0].target_arn.split(':').nth(3)
    );
    assert!(
        matches!(
            c.operation.as_deref(),
            Some("EnableKeyRotation" | "DisableKeyRotation")
        ),
        "{c:?}"
    );
    assert_eq!(c.code.as_deref(), Some("AccessDeniedException"));
}
