//! The operations every surface calls (`kms_rotation::ops`): their options' defaults, names and
//! checks, and the safety decisions made there once (dry run by default, journal required).

mod common;

use std::sync::Arc;

use kms_rotation::ErrorKind;
use kms_rotation::ops::{self, ApplyOptions, PlanOptions, RollbackOptions, ScanOptions};
use kms_rotation::remediate::{
    ActionStatus, MemoryTarget, RemediationProgress, RollbackStatus, RotationState,
};
use serde_json::json;

fn options<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("valid options")
}

fn fleet_scan() -> serde_json::Value {
    json!({
        "inventory": common::examples_dir().join("fleet.json"),
        "policy_file": common::examples_dir().join("policy.yaml"),
        "exceptions": [common::examples_dir().join("exceptions.yaml")],
    })
}

async fn fleet_plan() -> kms_rotation::Plan {
    ops::plan(options(json!({ "scan": fleet_scan() })), None)
        .await
        .expect("plan")
}

fn disabled_target(plan: &kms_rotation::Plan) -> Arc<MemoryTarget> {
    Arc::new(MemoryTarget::new(
        plan.actions
            .iter()
            .map(|a| (a.target_arn.clone(), RotationState::DISABLED)),
    ))
}

#[test]
fn remediation_is_a_dry_run_unless_told_otherwise() {
    assert!(ApplyOptions::default().dry_run);
    assert!(RollbackOptions::default().dry_run);
    assert!(options::<ApplyOptions>(json!({})).dry_run);
    assert!(options::<RollbackOptions>(json!({})).dry_run);
    assert!(!options::<ApplyOptions>(json!({ "dry_run": false })).dry_run);
}

#[test]
fn options_take_snake_case_and_javascript_camel_case_but_nothing_unknown() {
    let camel: ApplyOptions = options(
        json!({ "dryRun": false, "writesPerSecond": 3, "endpointUrl": "http://127.0.0.1:1" }),
    );
    assert!(!camel.dry_run);
    assert_eq!(camel.writes_per_second, 3);
    assert_eq!(camel.endpoint_url.as_deref(), Some("http://127.0.0.1:1"));
    for bad in [
        json!({ "dry-run": false }),
        json!({ "dryrun": false }),
        json!({ "yes": true }),
    ] {
        let err = serde_json::from_value::<ApplyOptions>(bad.clone()).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{bad}: {err}");
    }
    let err =
        serde_json::from_value::<ScanOptions>(json!({ "region": ["eu-west-1"] })).unwrap_err();
    assert!(err.to_string().contains("unknown field `region`"), "{err}");
}

#[test]
fn the_aws_options_of_every_operation_default_like_aws_options() {
    let aws = kms_rotation::ops::AwsOptions::default();
    assert_eq!(ScanOptions::default().aws_options(Vec::new()), aws);
    assert_eq!(ApplyOptions::default().aws_options(Vec::new()), aws);
    assert_eq!(RollbackOptions::default().aws_options(Vec::new()), aws);
    let read: ApplyOptions = options(json!({ "dry_run": false }));
    assert_eq!(read.aws_options(Vec::new()), aws);
    assert_eq!(aws.max_attempts, 5);
    assert_eq!(aws.session_name, "kms-rotation");
}

#[test]
fn rate_limits_have_one_syntax() {
    let scan: ScanOptions = options(json!({ "rates": ["describe-key=100", "list-keys = 7"] }));
    assert_eq!(scan.rate_limits.describe_key, 100);
    assert_eq!(scan.rate_limits.list_keys, 7);
    for bad in ["describe_key=100", "describe-key", "describe-key=fast"] {
        let err = serde_json::from_value::<ScanOptions>(json!({ "rates": [bad] })).unwrap_err();
        assert!(
            err.to_string().contains("OPERATION=REQUESTS_PER_SECOND"),
            "{bad}: {err}"
        );
    }
}

#[tokio::test]
async fn unknown_regions_and_bad_accounts_are_refused_before_any_read() {
    let mut scan: ScanOptions = options(fleet_scan());
    scan.regions = vec!["eu-west-9".into()];
    let err = ops::scan(scan.clone(), None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.context().field.as_deref(), Some("regions[0]"));
    assert!(err.to_string().contains("allow_unknown_region"), "{err}");
    scan.allow_unknown_region = true;
    assert_eq!(
        ops::scan(scan.clone(), None).await.unwrap().findings.len(),
        0
    );

    scan.regions.clear();
    scan.accounts = vec!["12345".into()];
    let err = ops::scan(scan, None).await.unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("accounts[0]"));
}

#[tokio::test]
async fn a_local_source_refuses_aws_options_rather_than_ignore_them() {
    let mut scan: ScanOptions = options(fleet_scan());
    scan.endpoint_url = Some("http://127.0.0.1:9".into());
    let err = ops::scan(scan, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_plan_comes_from_exactly_one_of_a_report_a_file_or_a_scan() {
    let report = ops::scan(options(fleet_scan()), None).await.unwrap();
    let from_report = ops::plan(
        PlanOptions {
            report: Some(report.clone()),
            now: Some(report.generated_at),
            ..PlanOptions::default()
        },
        None,
    )
    .await
    .unwrap();
    assert!(!from_report.actions.is_empty());
    let err = ops::plan(PlanOptions::default(), None).await.unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("report"));

    // An edited verdict is refused, as in a file.
    let mut edited = report.clone();
    let failing = edited
        .findings
        .iter_mut()
        .find(|f| f.status == kms_rotation::Status::Fail)
        .unwrap();
    failing.status = kms_rotation::Status::Pass;
    let err = ops::plan(
        PlanOptions {
            report: Some(edited),
            ..PlanOptions::default()
        },
        None,
    )
    .await
    .unwrap_err();
    assert!(
        err.context()
            .field
            .as_deref()
            .unwrap_or("")
            .starts_with("report.findings["),
        "{err}"
    );

    let err = ops::plan(
        options(json!({ "batch_size": 0, "scan": fleet_scan() })),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("batch_size"));
}

#[tokio::test]
async fn apply_without_dry_run_false_writes_nothing() {
    let plan = fleet_plan().await;
    let target = disabled_target(&plan);
    let journal = common::scratch("ops-dry-journal.ndjson");
    let outcome = ops::apply_to(
        ApplyOptions {
            plan: Some(plan.clone()),
            journal: Some(journal.clone()),
            ..ApplyOptions::default()
        },
        target.clone(),
        None,
    )
    .await
    .unwrap();
    assert!(outcome.dry_run);
    assert_eq!(outcome.results.len(), plan.actions.len());
    assert!(
        outcome
            .results
            .iter()
            .all(|r| r.status == ActionStatus::WouldRemediate)
    );
    assert!(target.write_calls().is_empty(), "a dry run writes nothing");
    assert_eq!(target.read_calls(), 0, "a dry run calls nothing");
    assert!(!journal.exists(), "a dry run creates no journal");
}

#[tokio::test]
async fn a_shard_is_index_slash_count_checked_and_recorded_in_the_scope() {
    let scan: ScanOptions =
        options(json!({ "shard": "1/4", "inventory": fleet_scan()["inventory"] }));
    let report = ops::scan(scan, None).await.unwrap();
    assert_eq!(
        report.scope.shard.map(|s| s.to_string()).as_deref(),
        Some("1/4")
    );
    let err = serde_json::from_value::<ScanOptions>(json!({ "shard": "4/4" })).unwrap_err();
    assert!(err.to_string().contains("past the last"), "{err}");
    assert!(ScanOptions::default().shard.is_none());
}

/// apply and rollback write the keys of a plan or journal: the organisation options are refused
/// before anything is read, never ignored.
#[tokio::test]
async fn apply_and_rollback_refuse_the_organisation_options() {
    let plan = fleet_plan().await;
    let target = disabled_target(&plan);
    let err = ops::apply_to(
        options(json!({ "organization": true, "orgRoleName": "scanner" })),
        target.clone(),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.context().field.as_deref(), Some("organization"));
    let err = ops::rollback_to(
        options(json!({ "include_ous": ["ou-ab12-abcd1234"] })),
        target.clone(),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.context().field.as_deref(), Some("include_ous"));
    assert!(target.write_calls().is_empty());
}

#[tokio::test]
async fn a_write_needs_a_journal() {
    let plan = fleet_plan().await;
    let target = disabled_target(&plan);
    let err = ops::apply_to(
        ApplyOptions {
            plan: Some(plan),
            dry_run: false,
            ..ApplyOptions::default()
        },
        target.clone(),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.context().field.as_deref(), Some("journal"));
    assert!(target.write_calls().is_empty());
}

#[tokio::test]
async fn apply_then_rollback_through_the_operations() {
    let plan = fleet_plan().await;
    let target = disabled_target(&plan);
    let journal = common::scratch("ops-journal.ndjson");
    let quick = json!({ "dry_run": false, "verify_delay_ms": 1, "journal": journal });
    let mut apply: ApplyOptions = options(quick.clone());
    apply.plan = Some(plan.clone());
    let outcome = ops::apply_to(apply, target.clone(), None).await.unwrap();
    assert!(outcome.is_success(), "{outcome:?}");
    let writes = target.write_calls().len();
    assert_eq!(writes, plan.actions.len());

    // The rollback dry run lists every key and changes nothing.
    let dry = ops::rollback_to(options(json!({ "journal": journal })), target.clone(), None)
        .await
        .unwrap();
    assert_eq!(dry.results.len(), plan.actions.len());
    assert!(
        dry.results
            .iter()
            .all(|r| r.status == RollbackStatus::WouldRollBack)
    );
    assert_eq!(target.write_calls().len(), writes);

    let undone = ops::rollback_to(options(quick), target.clone(), None)
        .await
        .unwrap();
    assert!(undone.is_success(), "{undone:?}");
    assert_eq!(target.write_calls().len(), 2 * writes);
}

/// A progress callback that records every update.
fn recorder() -> (
    kms_rotation::remediate::RemediationProgressFn,
    Arc<std::sync::Mutex<Vec<RemediationProgress>>>,
) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let callback = Arc::new(move |update: RemediationProgress| {
        sink.lock().expect("not poisoned").push(update);
    });
    (callback, seen)
}

#[tokio::test]
async fn a_dry_run_reports_progress_as_a_real_run_does() {
    let plan = fleet_plan().await;
    let n = plan.actions.len();
    assert!(n > 1);
    let every_action: Vec<_> = (1..=n)
        .map(|done| RemediationProgress { done, total: n })
        .collect();
    let target = disabled_target(&plan);
    let journal = common::scratch("ops-progress-journal.ndjson");
    let quick = json!({ "dry_run": false, "verify_delay_ms": 1, "journal": journal });
    let run = |dry_run: bool| {
        let mut apply: ApplyOptions = options(quick.clone());
        apply.plan = Some(plan.clone());
        apply.dry_run = dry_run;
        apply
    };

    let (callback, dry) = recorder();
    ops::apply_to(run(true), target.clone(), Some(callback))
        .await
        .unwrap();
    assert_eq!(*dry.lock().unwrap(), every_action);
    let (callback, real) = recorder();
    ops::apply_to(run(false), target.clone(), Some(callback))
        .await
        .unwrap();
    assert_eq!(*real.lock().unwrap(), every_action);

    let (callback, dry) = recorder();
    let rollback: RollbackOptions = options(json!({ "journal": journal }));
    ops::rollback_to(rollback, target.clone(), Some(callback))
        .await
        .unwrap();
    assert_eq!(*dry.lock().unwrap(), every_action);
    let (callback, real) = recorder();
    ops::rollback_to(options(quick), target.clone(), Some(callback))
        .await
        .unwrap();
    assert_eq!(*real.lock().unwrap(), every_action);
}

#[tokio::test]
async fn apply_can_run_one_batch_of_a_plan_at_a_time() {
    let plan = ops::plan(
        options(json!({ "batch_size": 2, "scan": fleet_scan() })),
        None,
    )
    .await
    .unwrap();
    assert!(plan.batches() >= 2, "{plan:?}");
    let target = disabled_target(&plan);
    let journal = common::scratch("ops-batch-journal.ndjson");
    let mut first: ApplyOptions = options(json!({
        "dry_run": false, "verify_delay_ms": 1, "journal": journal, "batches": [1]
    }));
    first.plan = Some(plan.clone());
    let outcome = ops::apply_to(first, target.clone(), None).await.unwrap();
    let batch_one: Vec<&str> = plan
        .actions
        .iter()
        .filter(|a| a.batch == 1)
        .map(|a| a.target_arn.as_str())
        .collect();
    let done: Vec<&str> = outcome
        .results
        .iter()
        .map(|r| r.target_arn.as_str())
        .collect();
    assert_eq!(done, batch_one);
    assert_eq!(
        target.write_calls().len(),
        batch_one.len(),
        "only batch 1 is written"
    );

    let mut missing: ApplyOptions = options(json!({ "batches": [plan.batches() + 1] }));
    missing.plan = Some(plan.clone());
    let err = ops::apply_to(missing, target.clone(), None)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(err.context().field.as_deref(), Some("batches[0]"));
}
