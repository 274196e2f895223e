//! Remediation that fails closed, against the in-memory target: the scope re-check before every
//! write, and a journal that is recoverable (intents, writes that may have landed, torn lines,
//! locks, a journal failing mid-run) with rollback across runs.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use kms_rotation::model::{KeyArn, KeyState, MultiRegion, MultiRegionRole};
use kms_rotation::remediate::{
    Action, ActionStatus, ApplyOptions, Event, Journal, JournalEntry, KeyMetadata, MemoryTarget,
    Plan, PlanOptions, RollbackOptions, RollbackStatus, RotationState, WriteMode, apply, plan,
    read_journal, rollback, scope_reason, undo_list, write_may_have_applied,
};
use kms_rotation::{ErrorKind, Policy, Report, ReportScope, RotationPeriod};

const ORDERS: &str = "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002";
const REPORTS: &str = "arn:aws:kms:us-east-1:111122223333:key/00000003-0000-4000-8000-000000000003";

fn key(n: &str) -> String {
    format!("arn:aws:kms:us-east-1:111122223333:key/000000{n}-0000-4000-8000-0000000000{n}")
}

const REPLICA: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/mrk-0000000f-0000-4000-8000-00000000000f";

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

/// The fleet plan cut down to the actions on `arns`.
fn plan_for(arns: &[&str]) -> Plan {
    let mut plan = fleet_plan();
    plan.actions
        .retain(|a| arns.contains(&a.target_arn.as_str()));
    assert_eq!(plan.actions.len(), arns.len());
    plan
}

/// Every fleet key with its rotation (off when the inventory has none) and, for DescribeKey,
/// its metadata as the inventory records it.
fn described_fleet() -> Arc<MemoryTarget> {
    let target = Arc::new(MemoryTarget::default());
    for record in common::fleet() {
        let state = record
            .rotation
            .as_ref()
            .map_or(RotationState::DISABLED, |r| RotationState {
                enabled: r.enabled,
                period_days: r.period_days,
            });
        target.set_state(&record.arn, state);
        target.set_metadata(&record.arn, KeyMetadata::from_record(&record));
    }
    target
}

/// An action on `arn` as a hand edit of the plan file would add it.
fn edited_action(template: &Action, arn: &str) -> Action {
    let parsed = KeyArn::parse(arn).unwrap();
    Action {
        target_arn: arn.to_owned(),
        region: parsed.region.to_owned(),
        account_id: parsed.account_id.to_owned(),
        because: vec![arn.to_owned()],
        ..template.clone()
    }
}

/// Writes `entries` as a journal file, as a run that stopped after them leaves it.
fn write_journal(path: &PathBuf, entries: &[JournalEntry]) {
    let text: String = entries
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    std::fs::write(path, text).unwrap();
}

fn written_arns(target: &MemoryTarget) -> BTreeSet<String> {
    target.write_calls().into_iter().map(|w| w.arn).collect()
}

// -- the scope re-check ------------------------------------------------------------------------

#[tokio::test]
async fn an_edited_plan_cannot_make_apply_write_outside_the_scope() {
    let mut plan = fleet_plan();
    let planned: BTreeSet<String> = plan.actions.iter().map(|a| a.target_arn.clone()).collect();
    let refused = [
        (key("05"), scope_reason::UNSUPPORTED_KEY_SPEC), // RSA_2048
        (key("06"), scope_reason::UNSUPPORTED_KEY_SPEC), // HMAC_256
        (key("07"), scope_reason::IMPORTED_KEY_MATERIAL), // EXTERNAL
        (key("08"), scope_reason::CUSTOM_KEY_STORE),     // AWS_CLOUDHSM
        (key("09"), scope_reason::CUSTOM_KEY_STORE),     // EXTERNAL_KEY_STORE
        (key("0a"), scope_reason::AWS_MANAGED),
        (key("0c"), scope_reason::KEY_DISABLED),
        (key("0d"), scope_reason::PENDING_DELETION),
        (REPLICA.to_owned(), scope_reason::REPLICA_KEY),
    ];
    let template = plan.actions[0].clone();
    for (arn, _) in &refused {
        assert!(!planned.contains(arn), "{arn} is not in the plan as made");
        let mut action = edited_action(&template, arn);
        action.batch = plan.batches();
        plan.actions.push(action);
    }
    plan.validate().unwrap();

    let target = described_fleet();
    let journal = Journal::in_memory();
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();

    assert_eq!(
        written_arns(&target),
        planned,
        "writes only to the plan as made"
    );
    for (arn, reason) in &refused {
        let result = outcome
            .results
            .iter()
            .find(|r| &r.target_arn == arn)
            .unwrap();
        assert_eq!(result.status, ActionStatus::Skipped, "{arn}");
        assert_eq!(result.reason.as_deref(), Some(*reason), "{arn}");
        // Journaled, with the reason, and no intent: nothing was about to be written.
        let lines: Vec<JournalEntry> = journal
            .entries()
            .into_iter()
            .filter(|e| &e.target_arn == arn)
            .collect();
        assert_eq!(lines.len(), 1, "{arn}: {lines:?}");
        assert_eq!(lines[0].event, Event::Skipped);
        assert_eq!(lines[0].reason.as_deref(), Some(*reason));
    }
    assert_eq!(
        outcome.count(ActionStatus::Remediated),
        planned.len(),
        "{outcome:#?}"
    );
    // Skips for scope are not failures.
    assert!(outcome.is_success());
}

#[tokio::test]
async fn the_scope_is_that_of_the_key_now_and_unknown_facts_refuse_the_write() {
    let plan = plan_for(&[ORDERS, REPORTS]);
    let target = described_fleet();
    let updating = KeyMetadata {
        key_state: Some(KeyState::Updating),
        ..KeyMetadata::customer_symmetric()
    };
    target.set_metadata(ORDERS, updating);
    let unknown_spec = KeyMetadata {
        key_spec: None,
        ..KeyMetadata::customer_symmetric()
    };
    target.set_metadata(REPORTS, unknown_spec);
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    let reason = |arn: &str| {
        let r = outcome
            .results
            .iter()
            .find(|r| r.target_arn == arn)
            .unwrap();
        (r.status, r.reason.clone())
    };
    assert_eq!(
        reason(ORDERS),
        (
            ActionStatus::Skipped,
            Some(scope_reason::KEY_NOT_ENABLED.to_owned())
        )
    );
    assert_eq!(
        reason(REPORTS),
        (
            ActionStatus::Skipped,
            Some(scope_reason::KEY_METADATA_INCOMPLETE.to_owned())
        )
    );
    assert!(target.write_calls().is_empty());
    // A re-check is a describe, not a rotation read: refused keys cost one call.
    assert_eq!(target.describe_calls(), 2);
    assert_eq!(target.read_calls(), 0);

    // A replica stays refused when the plan names it as its own target.
    target.set_metadata(
        ORDERS,
        KeyMetadata {
            multi_region: Some(MultiRegion {
                role: MultiRegionRole::Replica,
                primary_arn: Some(REPORTS.to_owned()),
            }),
            ..KeyMetadata::customer_symmetric()
        },
    );
    let outcome = apply(
        &plan_for(&[ORDERS]),
        target.clone(),
        &common::quick_apply_options(),
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    assert_eq!(
        outcome.results[0].reason.as_deref(),
        Some(scope_reason::REPLICA_KEY)
    );

    // A describe that fails is `failed`, and nothing is written.
    let target = described_fleet();
    target.fail_key(ORDERS, "AccessDeniedException");
    let journal = Journal::in_memory();
    let outcome = apply(
        &plan_for(&[ORDERS]),
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    let result = &outcome.results[0];
    assert_eq!(result.status, ActionStatus::Failed);
    let error = result.error.as_ref().unwrap();
    assert_eq!(error.operation.as_deref(), Some("DescribeKey"));
    assert!(target.write_calls().is_empty());
    assert_eq!(journal.entries()[0].event, Event::Failed);

    // A dry run re-checks too: it does not promise a write apply would refuse.
    let target = described_fleet();
    target.set_metadata(ORDERS, KeyMetadata::from_record(&disabled_record()));
    let outcome = apply(
        &plan_for(&[ORDERS]),
        target.clone(),
        &ApplyOptions {
            dry_run: true,
            ..common::quick_apply_options()
        },
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    assert_eq!(outcome.results[0].status, ActionStatus::Skipped);
    assert_eq!(
        outcome.results[0].reason.as_deref(),
        Some(scope_reason::KEY_DISABLED)
    );
}

fn disabled_record() -> kms_rotation::KeyRecord {
    common::fleet()
        .into_iter()
        .find(|r| r.arn == key("0c"))
        .unwrap()
}

// -- the journal: intents and writes that may have landed -------------------------------------

#[test]
fn failed_writes_are_possibly_applied_unless_the_service_refused_them() {
    for code in [
        "TimeoutError",
        "DispatchFailure",
        "ResponseError",
        "KMSInternalException",
        "ThrottlingException",
        "UnknownError",
        "SomethingNew",
    ] {
        assert!(write_may_have_applied(code), "{code}");
    }
    for code in [
        "AccessDeniedException",
        "DisabledException",
        "KMSInvalidStateException",
        "NotFoundException",
        "UnsupportedOperationException",
        "ValidationException",
        "ExpiredTokenException",
        "MissingAuthenticationTokenException",
        "ConstructionFailure",
        "InvalidInput",
        "AccessDenied",
    ] {
        assert!(!write_may_have_applied(code), "{code}");
    }
}

#[tokio::test]
async fn a_write_whose_reply_was_lost_is_journaled_as_such_and_rolled_back() {
    let plan = plan_for(&[ORDERS]);
    let target = described_fleet();
    // The write lands, the reply does not: a timeout after the service acted.
    target.set_write_mode(WriteMode::ApplyThenFail("TimeoutError".into()));
    let journal = Journal::in_memory();
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    let result = &outcome.results[0];
    assert_eq!(result.status, ActionStatus::Failed);
    assert_eq!(result.reason.as_deref(), Some("write_outcome_unknown"));
    let entries = journal.entries();
    let events: Vec<Event> = entries.iter().map(|e| e.event).collect();
    assert_eq!(events, [Event::Before, Event::Failed]);
    // The intent carries the state read and the state about to be written.
    assert_eq!(entries[0].state, Some(RotationState::DISABLED));
    assert_eq!(
        entries[0].target,
        Some(RotationState::enabled(RotationPeriod::AWS_DEFAULT))
    );
    assert_eq!(target.state(ORDERS).unwrap().period_days, Some(365));

    target.set_write_mode(WriteMode::Apply);
    let undone = rollback(
        &entries,
        target.clone(),
        &common::quick_rollback_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(undone.results.len(), 1, "{undone:#?}");
    assert_eq!(undone.results[0].status, RollbackStatus::RolledBack);
    assert!(undone.results[0].possibly_applied);
    assert_eq!(target.state(ORDERS), Some(RotationState::DISABLED));

    // A write the service refused changed nothing: nothing to undo.
    let target = described_fleet();
    target.set_write_mode(WriteMode::Fail("AccessDeniedException".into()));
    let journal = Journal::in_memory();
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(outcome.results[0].status, ActionStatus::Failed);
    assert_eq!(outcome.results[0].reason, None);
    assert!(undo_list(&journal.entries(), None).is_empty());
}

/// The sequence of the issue: a run dies between EnableKeyRotation and journaling `after`; a
/// later apply finds the key at target and skips it; rollback still restores it.
#[tokio::test]
async fn an_intent_without_after_is_rolled_back_even_after_a_later_apply_skipped_the_key() {
    let plan = plan_for(&[ORDERS]);
    let target = described_fleet();
    // The journal takes the intent and nothing after: the write is sent, `after` is lost.
    let dying = Journal::in_memory_failing_after(1);
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &dying,
    )
    .await
    .unwrap();
    assert_eq!(target.state(ORDERS).unwrap().period_days, Some(365));
    assert!(outcome.journal_error.is_some());
    assert!(!outcome.is_success());
    let path = common::scratch("killed.ndjson");
    write_journal(&path, &dying.entries());
    assert_eq!(dying.entries().len(), 1);
    assert!(dying.entries()[0].target.is_some());

    let journal = Journal::open(&path).unwrap();
    let later = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(
        later.results[0].reason.as_deref(),
        Some("already_at_target")
    );

    let entries = journal.read_entries().unwrap();
    let undos = undo_list(&entries, None);
    assert_eq!(undos.len(), 1);
    assert!(undos[0].possibly_applied);
    let undone = rollback(
        &entries,
        target.clone(),
        &common::quick_rollback_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(undone.results[0].status, RollbackStatus::RolledBack);
    assert_eq!(
        undone.results[0].reason, None,
        "written, not found restored"
    );
    assert_eq!(target.state(ORDERS), Some(RotationState::DISABLED));
    let last = read_journal(&path).unwrap().pop().unwrap();
    assert_eq!(
        (last.target_arn.as_str(), last.event),
        (ORDERS, Event::RolledBack)
    );

    // The same intent whose write never left: the key shows its old state, nothing is written.
    let target = described_fleet();
    let writes = target.write_calls().len();
    let undone = rollback(
        &dying.entries(),
        target.clone(),
        &common::quick_rollback_options(),
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    assert_eq!(undone.results[0].status, RollbackStatus::RolledBack);
    assert_eq!(
        undone.results[0].reason.as_deref(),
        Some("already_at_before_state")
    );
    assert_eq!(target.write_calls().len(), writes);
}

#[tokio::test]
async fn a_journal_that_fails_mid_run_stops_the_writes_and_still_returns_every_result() {
    let plan = fleet_plan();
    assert!(plan.actions.len() > 3);
    let target = described_fleet();
    // Three lines per remediated key (before, after, verified): the second key's `verified`
    // is the first line refused.
    let journal = Journal::in_memory_failing_after(5);
    let outcome = apply(
        &plan,
        target.clone(),
        &ApplyOptions {
            concurrency: 1,
            ..common::quick_apply_options()
        },
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(outcome.results.len(), plan.actions.len());
    assert!(outcome.journal_error.is_some());
    assert!(outcome.stopped.as_deref().unwrap().contains("journal"));
    assert!(!outcome.is_success());
    // No write without its intent on disk.
    let intents = journal
        .entries()
        .iter()
        .filter(|e| e.event == Event::Before && e.target.is_some())
        .count();
    assert_eq!(target.write_calls().len(), intents);
    assert_eq!(intents, 2);
    assert_eq!(outcome.count(ActionStatus::Remediated), 2);
    assert_eq!(
        outcome.count(ActionStatus::NotAttempted),
        plan.actions.len() - 2
    );
    assert!(
        outcome
            .results
            .iter()
            .filter(|r| r.status == ActionStatus::NotAttempted)
            .all(|r| r.reason.as_deref() == Some("journal_failed"))
    );
    let err = journal.record(&journal.entries()[0]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
}

// -- the journal file: torn lines and the lock -------------------------------------------------

const LINE: &str = r#"{"at":"2026-11-22T12:00:00Z","run_id":"r1","target_arn":"arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002","event":"before","state":{"enabled":false},"target":{"enabled":true,"period_days":365},"error":null}"#;

#[tokio::test]
async fn a_torn_last_line_is_reported_and_ignored_and_any_other_bad_line_is_an_error() {
    let path = common::scratch("torn.ndjson");
    let torn = &LINE[..40];
    std::fs::write(&path, format!("{LINE}\n{torn}")).unwrap();

    assert_eq!(read_journal(&path).unwrap().len(), 1);
    let reader = Journal::read_only(&path).unwrap();
    assert_eq!(reader.read_entries().unwrap().len(), 1);
    let warnings = reader.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("line 2"), "{warnings:?}");
    drop(reader);

    // Opening for a run removes the torn bytes (so the next line does not run into them), says
    // so, and the rollback outcome carries the warning.
    let journal = Journal::open(&path).unwrap();
    assert_eq!(journal.warnings().len(), 1);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{LINE}\n"));
    let target = described_fleet();
    target.set_state(ORDERS, RotationState::enabled(RotationPeriod::AWS_DEFAULT));
    let entries = journal.read_entries().unwrap();
    let outcome = rollback(
        &entries,
        target.clone(),
        &common::quick_rollback_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(outcome.journal_warnings.len(), 1);
    assert_eq!(outcome.results[0].status, RollbackStatus::RolledBack);
    assert_eq!(read_journal(&path).unwrap().len(), 2);
    drop(journal);

    // A complete last line without its newline is kept, and the next line starts on its own.
    std::fs::write(&path, LINE).unwrap();
    assert_eq!(read_journal(&path).unwrap().len(), 1);
    let journal = Journal::open(&path).unwrap();
    assert!(journal.warnings().is_empty());
    journal.record(&read_journal(&path).unwrap()[0]).unwrap();
    assert_eq!(read_journal(&path).unwrap().len(), 2);
    drop(journal);

    // A bad line that is not the torn last one is an error naming the file and the line.
    for text in [
        format!("{LINE}\n{torn}\n"),
        format!("{torn}\n{LINE}\n"),
        format!("{LINE}\n{{\"event\":\"exploded\"}}\n{LINE}"),
    ] {
        std::fs::write(&path, &text).unwrap();
        let err = read_journal(&path).unwrap_err();
        assert_eq!(err.context().file.as_deref(), Some(path.as_path()), "{err}");
        let bad = text.lines().position(|l| l != LINE).unwrap() + 1;
        assert_eq!(err.context().line, Some(bad), "{err}");
        assert!(Journal::open(&path).unwrap().read_entries().is_err());
    }
}

#[test]
fn a_second_run_on_a_journal_in_use_is_refused() {
    let path = common::scratch("locked.ndjson");
    let first = Journal::open(&path).unwrap();
    let clone = first.clone();
    drop(first);
    for second in [Journal::open(&path), Journal::open_existing(&path)] {
        let err = second.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.to_string().contains("in use"), "{err}");
        assert_eq!(err.context().file.as_deref(), Some(path.as_path()));
    }
    // Reading for a dry run needs no lock.
    assert!(Journal::read_only(&path).is_ok());
    drop(clone);
    assert!(Journal::open(&path).is_ok(), "released with the last clone");
    // Rollback needs an existing journal; apply creates one.
    let missing = common::scratch("missing.ndjson");
    assert_eq!(
        Journal::open_existing(&missing).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn run_ids_are_uuid_v7_unique_and_ordered_within_a_process() {
    let target = Arc::new(MemoryTarget::default());
    let mut ids = Vec::new();
    for _ in 0..2000 {
        let outcome = rollback(
            &[],
            target.clone(),
            &RollbackOptions::default(),
            &Journal::in_memory(),
        )
        .await
        .unwrap();
        ids.push(outcome.run_id);
    }
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    assert!(
        ids.iter()
            .all(|id| id.len() == 36 && id.as_bytes()[14] == b'7')
    );
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ids, "in order of creation");
}

// -- rollback across runs ----------------------------------------------------------------------

#[tokio::test]
async fn rollback_across_runs_leaves_a_key_alone_where_the_runs_do_not_chain() {
    let plan = plan_for(&[ORDERS, REPORTS]);
    let target = described_fleet();
    let path = common::scratch("chain.ndjson");
    let journal = Journal::open(&path).unwrap();
    let first = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    // Someone turns rotation off on one key; the next run turns it on again.
    target.set_state(ORDERS, RotationState::DISABLED);
    let second = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_ne!(first.run_id, second.run_id);

    let entries = journal.read_entries().unwrap();
    let undos = undo_list(&entries, None);
    let orders = undos.iter().find(|u| u.target_arn == ORDERS).unwrap();
    assert!(orders.chain_broken.is_some(), "{orders:?}");
    let writes = target.write_calls().len();
    let outcome = rollback(
        &entries,
        target.clone(),
        &common::quick_rollback_options(),
        &journal,
    )
    .await
    .unwrap();
    let result = |arn: &str| {
        outcome
            .results
            .iter()
            .find(|r| r.target_arn == arn)
            .unwrap()
    };
    assert_eq!(result(ORDERS).status, RollbackStatus::Skipped);
    assert_eq!(result(ORDERS).reason.as_deref(), Some("chain_broken"));
    assert_eq!(result(REPORTS).status, RollbackStatus::RolledBack);
    let new_writes: Vec<_> = target.write_calls()[writes..].to_vec();
    assert!(new_writes.iter().all(|w| w.arn != ORDERS), "{new_writes:?}");
    assert_eq!(target.state(REPORTS).unwrap().period_days, Some(730));
    let skipped = read_journal(&path)
        .unwrap()
        .into_iter()
        .find(|e| e.event == Event::RollbackSkipped)
        .unwrap();
    assert_eq!(skipped.reason.as_deref(), Some("chain_broken"));

    // The second run alone chains with itself: it restores what that run found.
    let outcome = rollback(
        &journal.read_entries().unwrap(),
        target.clone(),
        &RollbackOptions {
            only_run: Some(second.run_id.clone()),
            ..common::quick_rollback_options()
        },
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(outcome.results.len(), 1);
    assert_eq!(outcome.results[0].status, RollbackStatus::RolledBack);
    assert_eq!(target.state(ORDERS), Some(RotationState::DISABLED));
}

#[tokio::test]
async fn rollback_across_chained_runs_restores_the_state_before_the_first() {
    let first_plan = plan_for(&[ORDERS]);
    // A later plan with a stricter policy: 180 days.
    let mut second_plan = first_plan.clone();
    let strict = RotationPeriod::new(180).unwrap();
    second_plan.policy.max_rotation_period_days = strict;
    second_plan.policy.target_rotation_period_days = strict;
    second_plan.actions[0].rotation_period_days = strict;
    let target = described_fleet();
    let journal = Journal::in_memory();
    apply(
        &first_plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    apply(
        &second_plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(target.state(ORDERS), Some(RotationState::enabled(strict)));

    let undos = undo_list(&journal.entries(), None);
    assert_eq!(undos.len(), 1);
    assert_eq!(undos[0].chain_broken, None);
    let outcome = rollback(
        &journal.entries(),
        target.clone(),
        &common::quick_rollback_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(outcome.results[0].status, RollbackStatus::RolledBack);
    assert_eq!(target.state(ORDERS), Some(RotationState::DISABLED));
}

#[tokio::test]
async fn rollback_re_checks_the_scope_before_writing() {
    let plan = plan_for(&[ORDERS]);
    let target = described_fleet();
    let journal = Journal::in_memory();
    apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    // Disabled since: DisableKeyRotation would be refused, and the key is not ours to touch.
    target.set_metadata(ORDERS, KeyMetadata::from_record(&disabled_record()));
    let writes = target.write_calls().len();
    let outcome = rollback(
        &journal.entries(),
        target.clone(),
        &common::quick_rollback_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(outcome.results[0].status, RollbackStatus::Skipped);
    assert_eq!(
        outcome.results[0].reason.as_deref(),
        Some(scope_reason::KEY_DISABLED)
    );
    assert_eq!(target.write_calls().len(), writes);
    assert!(!outcome.is_success());
}
