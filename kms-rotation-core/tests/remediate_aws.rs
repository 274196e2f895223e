//! The AWS remediation target end to end against the project's KMS test server on 127.0.0.1:
//! plan, apply, verify, re-apply, roll back, with AWS's answers to writes (cross-account
//! denial, fixes that do not stick, failing writes). Dummy credentials; loopback only.
#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kms::config::Credentials;
use aws_sdk_kms::config::retry::RetryConfig;
use kms_rotation::aws::AwsTarget;
use kms_rotation::remediate::{
    ActionStatus, ApplyOptions, Journal, Plan, PlanOptions, RollbackOptions, RollbackStatus,
    Verify, apply, plan, read_journal, rollback,
};
use kms_rotation::{Policy, Report, ReportScope};
use kms_test_server::{Faults, KmsTestServer, Writes};

const ORDERS: &str = "arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002";
const REPORTS: &str = "arn:aws:kms:us-east-1:111122223333:key/00000003-0000-4000-8000-000000000003";
const PRIMARY: &str =
    "arn:aws:kms:us-east-1:111122223333:key/mrk-0000000f-0000-4000-8000-00000000000f";
const QUEUE: &str = "arn:aws:kms:us-west-2:444455556666:key/00000015-0000-4000-8000-000000000015";

/// Dummy credentials, environment ignored, every call to `endpoint` (which must be loopback).
async fn sdk_config(endpoint: &str) -> SdkConfig {
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "{endpoint}: tests only talk to loopback servers"
    );
    aws_config::defaults(BehaviorVersion::latest())
        .empty_test_environment()
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "dummy-secret",
            None,
            None,
            "kms-rotation-tests",
        ))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .endpoint_url(endpoint)
        .load()
        .await
}

/// The sample fleet's plan under the default policy (no exceptions).
fn fleet_plan(accounts: &[&str]) -> Plan {
    let report = Report::evaluate(
        &common::fleet(),
        Policy::default(),
        ReportScope::default(),
        Vec::new(),
        chrono::Utc::now(),
    );
    let mut options = PlanOptions::default();
    options.selection.include.accounts = accounts.iter().map(|a| (*a).to_owned()).collect();
    plan(&report, &options).unwrap()
}

fn state(server: &KmsTestServer, arn: &str) -> (bool, Option<u32>) {
    let s = server.rotation_of(arn).unwrap();
    (s.enabled, s.period_days)
}

#[tokio::test]
async fn plan_apply_reapply_and_rollback_against_the_test_server() {
    let server = KmsTestServer::start(common::fleet(), Faults::default())
        .await
        .unwrap();
    let target = Arc::new(AwsTarget::from_sdk_config(
        sdk_config(&server.endpoint_url()).await,
    ));
    let plan = fleet_plan(&["111122223333"]);
    assert!(plan.actions.iter().any(|a| a.target_arn == PRIMARY));
    let path = common::scratch("loop.ndjson");
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
        assert_eq!(state(&server, &action.target_arn), (true, Some(365)));
    }
    let writes = server.write_calls();
    assert_eq!(writes.len(), plan.actions.len());
    assert!(
        writes
            .iter()
            .all(|c| c.status == 200 && c.operation == "EnableKeyRotation")
    );
    // Each write went to the key's own region.
    assert!(writes.iter().all(|c| {
        c.key_arn
            .as_deref()
            .is_some_and(|arn| arn.contains(&format!(":{}:", c.region)))
    }));

    // Re-running the plan reads, finds every key at target, and writes nothing.
    server.clear_calls();
    let again = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &journal,
    )
    .await
    .unwrap();
    assert_eq!(again.count(ActionStatus::Skipped), plan.actions.len());
    assert!(server.write_calls().is_empty());

    // Rollback puts back flag and period, only on the keys the run changed.
    server.clear_calls();
    let entries = read_journal(&path).unwrap();
    let rollback_options = RollbackOptions {
        verify: Verify {
            attempts: 3,
            delay: Duration::from_millis(10),
        },
        writes_per_second: 0,
        ..RollbackOptions::default()
    };
    let undone = rollback(&entries, target.clone(), &rollback_options, &journal)
        .await
        .unwrap();
    assert_eq!(
        undone.count(RollbackStatus::RolledBack),
        plan.actions.len(),
        "{undone:#?}"
    );
    assert_eq!(state(&server, ORDERS), (false, None));
    assert_eq!(state(&server, REPORTS), (true, Some(730)));
    assert_eq!(state(&server, PRIMARY), (false, None));
    let mut written: Vec<String> = server
        .write_calls()
        .into_iter()
        .filter_map(|c| c.key_arn)
        .collect();
    written.sort_unstable();
    let mut planned: Vec<String> = plan.actions.iter().map(|a| a.target_arn.clone()).collect();
    planned.sort_unstable();
    assert_eq!(written, planned);

    // A second rollback of the grown journal changes nothing.
    server.clear_calls();
    let entries = read_journal(&path).unwrap();
    let twice = rollback(&entries, target.clone(), &rollback_options, &journal)
        .await
        .unwrap();
    assert!(twice.results.is_empty(), "{twice:#?}");
    assert!(server.write_calls().is_empty());
}

#[tokio::test]
async fn aws_answers_become_per_key_results() {
    let server = KmsTestServer::start(common::fleet(), Faults::default())
        .await
        .unwrap();
    let target = Arc::new(AwsTarget::from_sdk_config(
        sdk_config(&server.endpoint_url()).await,
    ));
    // Both accounts, one set of credentials: the other account's key can be read but not
    // written (AccessDeniedException), and the rest still get fixed.
    let plan = fleet_plan(&[]);
    let outcome = apply(
        &plan,
        target.clone(),
        &common::quick_apply_options(),
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    let queue = outcome
        .results
        .iter()
        .find(|r| r.target_arn == QUEUE)
        .unwrap();
    assert_eq!(queue.status, ActionStatus::Failed, "{queue:#?}");
    assert_eq!(queue.error.as_ref().unwrap().code, "AccessDeniedException");
    assert_eq!(
        outcome.count(ActionStatus::Remediated),
        plan.actions.len() - 1
    );

    // Writes accepted but not applied: verification fails, with the state read.
    let server = KmsTestServer::start(
        common::fleet(),
        Faults {
            writes: Writes::Ignore,
            ..Faults::default()
        },
    )
    .await
    .unwrap();
    let target = Arc::new(AwsTarget::from_sdk_config(
        sdk_config(&server.endpoint_url()).await,
    ));
    let plan = fleet_plan(&["111122223333"]);
    let outcome = apply(
        &plan,
        target.clone(),
        &ApplyOptions {
            max_consecutive_failures: 0,
            ..common::quick_apply_options()
        },
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    assert_eq!(
        outcome.count(ActionStatus::VerificationFailed),
        plan.actions.len()
    );

    // Every write refused: the circuit breaker stops the run.
    server.set_faults(Faults {
        writes: Writes::failing(),
        ..Faults::default()
    });
    server.clear_calls();
    let outcome = apply(
        &plan,
        target.clone(),
        &ApplyOptions {
            max_consecutive_failures: 2,
            concurrency: 1,
            ..common::quick_apply_options()
        },
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    assert_eq!(server.write_calls().len(), 2);
    assert_eq!(outcome.count(ActionStatus::Failed), 2);
    assert!(outcome.stopped.is_some());
    assert_eq!(
        outcome.count(ActionStatus::NotAttempted),
        plan.actions.len() - 2
    );
}

/// `kms-rotation apply --yes` and `rollback --yes` against the test server, as a CI job runs
/// them: dummy credentials in the environment, the endpoint on the command line.
#[cfg(feature = "cli")]
#[tokio::test]
async fn the_cli_applies_and_rolls_back_through_the_aws_target() {
    use kms_rotation::remediate::PlanFormat;
    let server = KmsTestServer::start(common::fleet(), Faults::default())
        .await
        .unwrap();
    let plan = fleet_plan(&["111122223333"]);
    let plan_path = common::scratch("cli-plan.json");
    std::fs::write(&plan_path, plan.render_to_string(PlanFormat::Json).unwrap()).unwrap();
    let journal = common::scratch("cli-journal.ndjson");
    let endpoint = server.endpoint_url();
    assert!(endpoint.starts_with("http://127.0.0.1:"));
    let cli = |args: &[&str]| {
        let mut command = common::cli();
        command
            .args(args)
            .args(["--endpoint-url", &endpoint, "--verify-delay-ms", "10"]);
        // The server runs on this test's runtime: wait for the child off it.
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };
    let (plan_arg, journal_arg) = (
        plan_path.to_str().unwrap().to_owned(),
        journal.to_str().unwrap().to_owned(),
    );
    let out = cli(&[
        "apply",
        "--plan",
        &plan_arg,
        "--journal",
        &journal_arg,
        "--yes",
    ])
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(state(&server, REPORTS), (true, Some(365)));
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        outcome["results"].as_array().unwrap().len(),
        plan.actions.len()
    );

    let out = cli(&["rollback", "--journal", &journal_arg, "--yes"])
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(state(&server, REPORTS), (true, Some(730)));
    assert_eq!(state(&server, ORDERS), (false, None));
}

/// The whole loop through the AWS source, as a user runs it: scan, plan, apply, re-scan.
#[tokio::test]
async fn scan_plan_apply_rescan_leaves_only_skipped_keys_failing() {
    use std::collections::BTreeSet;

    use kms_rotation::aws::{AwsOptions, AwsSource};
    use kms_rotation::remediate::SkipReason;
    use kms_rotation::{KeySourceExt, ScanRequest, Status};

    let first_account: Vec<_> = common::fleet()
        .into_iter()
        .filter(|r| r.account_id == "111122223333")
        .collect();
    let server = KmsTestServer::start(first_account, Faults::default())
        .await
        .unwrap();
    let options = AwsOptions {
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
        max_attempts: 2,
        ..AwsOptions::default()
    };
    let source = Arc::new(
        AwsSource::from_sdk_config(sdk_config(&server.endpoint_url()).await, options)
            .await
            .unwrap(),
    );
    let before = source.scan(&ScanRequest::default()).await.unwrap();
    let plan = plan(&before, &PlanOptions::default()).unwrap();
    server.clear_calls();

    let target = Arc::new(AwsTarget::from_source(source.clone()));
    let outcome = apply(
        &plan,
        target,
        &common::quick_apply_options(),
        &Journal::in_memory(),
    )
    .await
    .unwrap();
    assert!(outcome.is_success(), "{outcome:#?}");

    // Writes went exactly to the plan's targets: failing keys, primaries, never a replica and
    // never a key the rule puts out of scope.
    let written: BTreeSet<String> = server
        .write_calls()
        .into_iter()
        .filter_map(|c| c.key_arn)
        .collect();
    let planned: BTreeSet<String> = plan.actions.iter().map(|a| a.target_arn.clone()).collect();
    assert_eq!(written, planned);
    for arn in &written {
        let finding = before.findings.iter().find(|f| &f.arn == arn).unwrap();
        assert_eq!(finding.status, Status::Fail, "{arn}");
        assert!(!finding.to_record().is_replica(), "{arn}");
    }
    assert!(
        written.contains(PRIMARY),
        "the replica's failure was fixed on its primary"
    );

    // The re-scan fails only keys the plan skipped with a reason: the disabled key.
    let after = source.scan(&ScanRequest::default()).await.unwrap();
    let still_failing: BTreeSet<String> = after
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.arn.clone())
        .collect();
    assert_eq!(still_failing.len(), 1, "{still_failing:?}");
    for arn in &still_failing {
        let skip = plan.skips.iter().find(|s| &s.arn == arn).unwrap();
        assert_eq!(skip.reason, SkipReason::KeyDisabled);
    }
}
